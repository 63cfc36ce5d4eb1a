"""A pip-installed copy runs its own main job (issue #27): the wheel `pip wheel .` builds holds the grids, profiles
and DeepSpeed configs, and a fresh environment with only that wheel (its dependencies borrowed from this one's
site-packages, never the checkout) runs `gr-scaling` from outside the checkout."""
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_the_package_list_is_complete():
    """pyproject lists packages by hand (slurm/ installs as sweeps.site): every package of the tree is in it."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for top in ("scaling", "sweeps", "analysis")
             for p in (REPO / top).rglob("__init__.py")}
    assert found | {"sweeps.site"} == listed


@pytest.mark.integration
def test_an_installed_wheel_runs_the_shipped_grids_from_outside_the_checkout(tmp_path):
    def sh(*cmd, cwd=tmp_path, timeout=600):
        r = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout)
        assert r.returncode == 0, f"{cmd}: {r.stdout[-1500:]}{r.stderr[-1500:]}"
        return r.stdout

    src = tmp_path / "src"   # a copy of what the wheel is built from: setuptools writes build/ beside its sources
    src.mkdir()
    for part in ("pyproject.toml", "README.md", "scaling", "sweeps", "analysis", "slurm"):
        (shutil.copytree if (REPO / part).is_dir() else shutil.copy)(REPO / part, src / part, **(
            {"ignore": shutil.ignore_patterns("__pycache__")} if (REPO / part).is_dir() else {}))
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path / "dist", src)
    wheel = next((tmp_path / "dist").glob("gr_scaling-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in ("sweeps/grids/quick.yaml", "sweeps/grids/quick-ci.yaml", "sweeps/site/profiles/local.yaml",
                    "sweeps/site/deepspeed/zero2.json", "sweeps/site/deepspeed/zero3.json"):
        assert shipped in names, shipped
    env = tmp_path / "env"
    sh(sys.executable, "-m", "venv", env)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(env), "platbase": str(env)}))
    # dependencies from this environment's site-packages (a plain path: its .pth files, the editable install's
    # finder among them, are not processed), the package itself from the wheel only
    (site / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")
    sh(env / "bin" / "pip", "install", "-q", "--no-deps", "--no-index", wheel)
    where = sh(env / "bin" / "python", "-c", "import scaling, sweeps; print(scaling.__file__, sweeps.__file__)")
    assert str(REPO) not in where and str(env) in where
    out = sh(env / "bin" / "gr-scaling", "sweep", "submit", "quick", "--dry-run", "--runs-dir", tmp_path / "runs")
    summary = out.strip().splitlines()[-1]   # after the table of every run's compute
    assert out.startswith("run ") and summary.startswith("quick: ") and " runs, 0 done" in summary
    assert "not counted" not in summary   # every run's compute is known from the wheel alone
    out = sh(env / "bin" / "gr-scaling", "sweep", "submit", "paper-rs", "--dry-run", "--executor", "slurm",
             "--profile", "example-gpu", "--runs-dir", tmp_path / "runs")
    assert out.strip().splitlines()[-1].startswith("paper-rs: ")   # epoch-bounded, no data here: "not counted"
    assert "--reduced" in sh(env / "bin" / "gr-scaling", "quickstart", "--help")
    ds = sh(env / "bin" / "python", "-c", "from scaling.shipped import shipped; print(shipped('slurm/deepspeed/zero2.json'))")
    assert str(env) in ds

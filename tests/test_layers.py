"""The packages import one way (issue #27): scaling's core <- sweeps, scaling's core <- analysis, and only the app
layer (scaling/app) sees all three — as submitit's core <- backends <- auto. Walked with `ast`, so a function-local
import counts as much as a top-level one."""
import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# what analysis may use of scaling: no training code, no torch (scaling.paradigms imports its builders lazily; scaling.config needs only yaml)
ANALYSIS_MAY_USE = ("scaling.errors", "scaling.record", "scaling.paradigms", "scaling.config")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def _under(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _violations() -> list[str]:
    bad = []
    for f in sorted((REPO / "scaling").rglob("*.py")):
        if "app" in f.relative_to(REPO / "scaling").parts[:1]:
            continue
        bad += [f"{f.relative_to(REPO)} imports {n}" for n in _imports(f) if _under(n, "sweeps", "analysis", "scaling.app")]
    for f in sorted((REPO / "sweeps").rglob("*.py")):
        bad += [f"{f.relative_to(REPO)} imports {n}" for n in _imports(f) if _under(n, "analysis", "scaling.app")]
    for f in sorted((REPO / "analysis").rglob("*.py")):
        bad += [f"{f.relative_to(REPO)} imports {n}" for n in _imports(f)
                if _under(n, "sweeps", "torch") or (_under(n, "scaling") and not _under(n, *ANALYSIS_MAY_USE))]
    return bad


def test_no_package_imports_against_the_layers():
    assert _violations() == []


def test_the_walk_sees_a_function_local_import(tmp_path, monkeypatch):
    """The check can fail: a function-local `import analysis` inside scaling's core is caught."""
    import sys

    me = sys.modules[__name__]

    fake = tmp_path / "scaling" / "core.py"
    fake.parent.mkdir()
    fake.write_text("def f():\n    from analysis import load_runs\n    import sweeps.launcher\n")
    monkeypatch.setattr(me, "REPO", tmp_path)
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "analysis").mkdir()
    assert me._violations() == ["scaling/core.py imports analysis", "scaling/core.py imports sweeps.launcher"]

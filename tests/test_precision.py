"""Precision that fits the machine (issue #30): `auto` resolves to bf16 only where the device computes it natively,
the resolved value is the run's id, shipped grids use it, and explicit bf16 on an emulating CPU warns once."""
from pathlib import Path

import pytest

from scaling import config, precision
from scaling.config import config_hash
from scaling.errors import ConfigError
from sweeps.grid import load_grid

REPO = Path(__file__).resolve().parents[1]
GRIDS = REPO / "sweeps" / "grids"
RESULTS = REPO / "notebooks" / "results"


def _records(d: Path) -> set[str]:
    return {p.name for p in d.iterdir() if p.name.startswith(("sidgr-", "llmrs-"))}


@pytest.fixture
def forced(monkeypatch):
    """Force the capability check: forced('native') / forced('emulated')."""
    def force(value: str):
        monkeypatch.setenv(precision.ENV, value)
        precision.capability.cache_clear()
    yield force
    monkeypatch.delenv(precision.ENV, raising=False)
    precision.capability.cache_clear()


def _precisions(cfg) -> tuple[str, str | None]:
    return cfg.train.autocast, cfg.llm.dtype if cfg.paradigm == "llmrs" else None


@pytest.mark.parametrize("grid", ["quick.yaml", "quick-ci.yaml"])
def test_quickstart_grids_resolve_to_fp32_where_bf16_is_emulated_and_to_bf16_where_native(forced, grid):
    forced("emulated")
    emulated = load_grid(GRIDS / grid).runs
    assert emulated and all(_precisions(c) in (("none", None), ("none", "float32")) for c in emulated)
    forced("native")
    native = load_grid(GRIDS / grid).runs
    assert {_precisions(c) for c in native} == {("bfloat16", None), ("none", "bfloat16")}   # as the grids pinned before
    # the resolved value is the run: the same grid names other runs on the two kinds of machine
    assert not {config_hash(c) for c in emulated} & {config_hash(c) for c in native if c.paradigm == "sidgr"}


def test_every_shipped_grid_leaves_precision_to_the_machine(forced):
    """No shipped grid pins bf16: on an emulating CPU every run computes in fp32 unless a grid says fp32 itself."""
    forced("emulated")
    for path in sorted(GRIDS.glob("*.yaml")):
        for c in load_grid(path).runs:
            assert precision.asks_bf16(c) == [], (path.name, precision.asks_bf16(c))


def test_committed_records_keep_their_ids_under_the_auto_grids(forced):
    """Resolved on a bf16-native machine (where they ran), the auto grids name exactly the committed records they
    always named; on an emulating CPU none of the bf16 records (fp32 runs are other runs)."""
    def named(grid, bf16):
        return {f"{c.paradigm}-{config_hash(c)}" for c in load_grid(grid, bf16=bf16).runs}
    ladder = _records(RESULTS / "dense-ladder")
    recommender = _records(RESULTS / "quick-recommender")
    both = named(GRIDS / "dense-ladder.yaml", True) | named(GRIDS / "dense-ladder-lr.yaml", True)
    assert len(both & ladder) == 8          # the ninth (grid at 1e-3) came from an earlier ladder grid
    assert named(GRIDS / "quick.yaml", True) >= recommender
    assert not named(GRIDS / "quick.yaml", False) & recommender
    fidelity = _records(RESULTS / "fidelity")   # issue #14's rows, once bash arrays, are grids now
    assert named(GRIDS / "fidelity-ablation.yaml", True) | named(GRIDS / "fidelity-trained-out.yaml", True) >= fidelity
    quick = _records(RESULTS / "quick")
    assert len(named(RESULTS / "grid.yaml", True) & quick) == len(named(RESULTS / "grid.yaml", False) & quick) == 6
    every = [d for d in RESULTS.glob("*/*") if d.name.startswith(("sidgr-", "llmrs-", "sasrec-")) and (d / "config.json").is_file()]
    assert len(every) >= 29
    for d in every:   # and every committed record reloads (gr-scaling run --from RUN) to its own id
        assert f"{d.name.split('-')[0]}-{config_hash(config.from_record(d))}" == d.name


def test_committed_studies_name_their_records_on_either_kind_of_machine(forced):
    """The committed studies' grids pin their precision (fp32, as their records ran), so a resubmission on a
    bf16-native CPU resumes them instead of renaming every run (seen: all 27 of dense-study 'missing' there)."""
    for grid, results in (("dense-study.yaml", "dense-study"), ("ml100k.yaml", "ml100k")):
        records = {p.name for p in (RESULTS / results).iterdir() if p.name.startswith(("sidgr-", "llmrs-", "sasrec-"))}
        assert len(records) >= 5
        for bf16 in (True, False):
            named = {f"{c.paradigm}-{config_hash(c)}" for c in load_grid(GRIDS / grid, bf16=bf16).runs}
            assert records <= named, (grid, bf16, sorted(records - named))


def test_resolution_rules():
    cfg = config.load(overrides=["paradigm=llmrs"], bf16=True)
    assert (cfg.train.autocast, cfg.llm.dtype) == ("bfloat16", "bfloat16")
    full = config.load(overrides=["paradigm=llmrs", "llm.finetune=full"], bf16=True)
    assert (full.train.autocast, full.llm.dtype) == ("bfloat16", "float32")   # fp32 master weights, mixed precision
    ds = config.load(overrides=["train.backend=deepspeed"], bf16=True)
    assert ds.train.autocast == "none"            # DeepSpeed's JSON owns bf16 there
    fp32 = config.load(overrides=["paradigm=llmrs"], bf16=False)
    assert (fp32.train.autocast, fp32.llm.dtype) == ("none", "float32")
    # explicit values are kept as asked
    assert config.load(overrides=["train.autocast=bfloat16"], bf16=False).train.autocast == "bfloat16"
    # an id never names "auto": fp32 resolved hashes as the fixed-fp32 run did
    assert config_hash(config.load(bf16=False)) == config_hash(config.load(overrides=["train.autocast=none"]))
    with pytest.raises(ConfigError, match="precision 'auto' is not resolved"):
        config_hash(config.RunConfig(train=config.TrainConfig(autocast="auto")))


def test_capability_check_on_this_machine(forced):
    import torch

    cap = precision.capability("cpu")
    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        assert not cap.native
    assert cap.describe().startswith(f"bf16 {'native' if cap.native else 'emulated'} on cpu")
    forced("native")
    assert precision.capability("cpu").native and "GR_SCALING_BF16=native" in precision.capability("cpu").why
    forced("sometimes")
    with pytest.raises(ConfigError, match=r"\$GR_SCALING_BF16='sometimes'; set it to native or emulated"):
        precision.capability("cpu")


def test_explicit_bf16_on_an_emulating_cpu_warns_once_in_one_line(forced, tmp_path, capsys):
    """Through `gr-scaling run`: the warning comes before the run's own failure (no data here), once a process."""
    from scaling.app import main

    forced("emulated")
    precision._WARNED.clear()
    for _ in range(2):
        assert main(["run", "train.autocast=bfloat16", "--runs-dir", str(tmp_path), "--data-dir",
                     str(tmp_path / "nowhere")]) == 2
    out = capsys.readouterr().out.splitlines()
    warned = [line for line in out if "emulates bf16" in line]
    assert len(warned) == 1, out
    assert warned[0].startswith("warning: train.autocast=bfloat16 on a CPU that emulates bf16 (")
    assert "x its fp32 rate here" in warned[0] and "set it to auto" in warned[0]
    # auto, or bf16 where it is native, says nothing
    precision._WARNED.clear()
    assert precision.emulated_warning(config.load(bf16=False), "cpu") is None
    forced("native")
    assert precision.emulated_warning(config.load(overrides=["train.autocast=bfloat16"]), "cpu") is None


def test_a_gpu_profile_resolves_bf16_for_its_jobs_wherever_the_sweep_is_submitted(forced, tmp_path):
    """The submitting machine (a login node without bf16) is not where the jobs compute: a profile that asks for
    GPUs resolves `auto` to bf16 (its `bf16` key overrides), and the sweep record keeps that for `status`."""
    from sweeps.launcher import Paths, open_grid, status
    from sweeps.profile import load_profile

    forced("emulated")
    assert load_profile(REPO / "slurm" / "profiles" / "example-gpu.yaml").bf16_target() is True
    assert load_profile(REPO / "slurm" / "profiles" / "local.yaml").bf16_target() is None
    old = tmp_path / "old-gpus.yaml"
    old.write_text("gpus_per_node: 4\nbf16: false\n")
    assert load_profile(old).bf16_target() is False
    paths = Paths(str(tmp_path / "runs"))
    grid, rec = open_grid(str(GRIDS / "quick-ci.yaml"), paths, str(REPO / "slurm" / "profiles" / "example-gpu.yaml"))
    assert rec["bf16"] is True and {precision.asks_bf16(c) != [] for c in grid.runs} == {True}
    local, _ = open_grid(str(GRIDS / "quick-ci.yaml"), paths)
    assert {precision.asks_bf16(c) != [] for c in local.runs} == {False}
    assert len(status(str(GRIDS / "quick-ci.yaml"), paths)) == len(local.runs)

"""Published SID-GR figures beside runs: only whole-dataset runs with the figure's settings are compared, with
the run's interval over its users."""
import json

import numpy as np
import pytest

from analysis import load_runs
from analysis.references import REFERENCES, beside_references, references
from test_uncertainty import _ranks, _record


def _whole_beauty(root, name, p, rng, **cfg):
    d = _record(root, name, 1e6, _ranks(rng, 4000, p))
    c = json.loads((d / "config.json").read_text())
    c["data"].update({"max_users": 0, "max_items": 0, "augment": "prefix"})
    c["tokenizer"].update({"width": 256, "dedup": "digit"})
    c["model"]["arch"] = "encdec"
    c["eval"] = {"constrained": True}
    for k, v in cfg.items():
        sec, key = k.split(".")
        c[sec][key] = v
    (d / "config.json").write_text(json.dumps(c))
    return d


def test_runs_beside_published_figures(tmp_path, capsys):
    rng = np.random.default_rng(0)
    _whole_beauty(tmp_path / "r", "prefix", 0.045, rng)
    _whole_beauty(tmp_path / "r", "augmented", 0.06, rng, **{"data.augment": "all"})
    _record(tmp_path / "r", "subset", 1e6, _ranks(rng, 500, 0.05))          # a dense-core subset: never compared
    _whole_beauty(tmp_path / "r", "w64", 0.05, rng, **{"tokenizer.width": 64})   # no figure at 3x64
    t = beside_references(load_runs(tmp_path / "r"))
    assert set(t["run_id"]) == {"prefix", "augmented"}
    pre = t[t["run_id"] == "prefix"].set_index("reference")
    assert set(pre.index) == {"GRID Table 1: RK-Means 3x256", "GRID Tables 5-8: no augmentation"}
    row = pre.loc["GRID Tables 5-8: no augmentation"]
    assert row["published"] == 0.0447 and row["users"] == 4000 and row["lo"] < row["recall@10"] < row["hi"]
    assert row["inside"] == (row["lo"] <= 0.0447 <= row["hi"])
    assert row["ratio"] == pytest.approx(row["recall@10"] / 0.0447)
    aug = t[t["run_id"] == "augmented"]["reference"].tolist()
    assert "GRID Tables 5-8: default (sliding window)" in aug and "GRID Tables 5-8: no augmentation" not in aug
    assert len(references("toys")) == sum(r.dataset == "toys" for r in REFERENCES) > 0

    from scaling.app import main
    main(["reference", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert "prefix (beauty, preset prefix): test recall@10" in out and "on 4,000 users vs GRID" in out
    main(["reference", str(tmp_path / "r" / "subset")])
    assert "no SID-GR run on a whole dataset" in capsys.readouterr().out

    from analysis.report import write_report
    md = write_report(tmp_path / "r", tmp_path / "rep", n_boot=50).read_text()
    assert "## Published reference figures" in md and "GRID Tables 5-8: no augmentation 0.0447" in md


def test_the_default_is_the_recipe_of_the_committed_trained_out_record():
    """README's trained-out full-Beauty figure is a record of today's SID-GR defaults (plus bf16 autocast): if the
    defaults change, this says the claim no longer describes them."""
    import json
    from pathlib import Path

    from scaling import config

    for data in ("beauty", "toys"):
        rid = config.config_hash(config.load(overrides=["train.autocast=bfloat16", f"data.dataset={data}"]))
        rec = Path(__file__).resolve().parents[1] / "notebooks" / "results" / "fidelity" / f"sidgr-{rid}"
        assert rec.is_dir(), f"no committed record of the default SID-GR config on {data} ({rid})"
        cfg = config.from_dict(json.loads((rec / "config.json").read_text()))
        assert config.config_hash(cfg) == rid
        assert (cfg.data.dataset, cfg.data.max_users, cfg.data.max_items, cfg.eval.test_users) == (data, 0, 0, 0)
        metrics = json.loads((rec / "metrics.json").read_text())
        assert metrics["stopped_early"] and metrics["steps"] > metrics["best_step"]

"""The ID-based baseline (SASRec, issue #25) on Beauty's dense core: a real run through `run`, beating
most-popular, with the same record as the other paradigms; and cold-start metrics equal to a hand count."""
import json

import numpy as np
import pytest

from analysis.outcomes import read_outcomes
from conftest import SHARED_DATA
from scaling import config
from scaling.idrec.model import PRESETS, SASRec, sasrec_params
from scaling.record import RECORD_FILES, read_status
from scaling.run import run

pytestmark = pytest.mark.integration
DENSE = ["paradigm=sasrec", "data.max_items=1000", "data.min_sequence=5", "data.max_users=3000",
         "sasrec.preset=t3-98k", "train.max_steps=600", "train.eval_every=200", "train.batch_size=128",
         "eval.valid_users=1000", "eval.test_users=1000", "eval.cold_max=20"]


@pytest.fixture(scope="module")
def sasrec_run(tmp_path_factory, shared_cache):
    return run(config.load(overrides=DENSE), tmp_path_factory.mktemp("sasrec"), shared_cache, SHARED_DATA,
               progress=False)


def test_sasrec_beats_most_popular_with_a_full_record(sasrec_run):
    d = sasrec_run
    assert read_status(d) == "done"
    assert all((d / f).is_file() for f in RECORD_FILES if f != "error.txt"), sorted(p.name for p in d.iterdir())
    m = json.loads((d / "metrics.json").read_text())
    assert m["test/recall@10"] > m["test/popular/recall@10"], m
    assert m["test/invalid_rate"] == 0.0
    p = json.loads((d / "params.json").read_text())
    assert p["n_id_non_embedding"] > 0 and p["train_flops_total"] > 0
    out = read_outcomes(d)["test"]
    assert set(out) == {"user", "rank", "popular_rank", "target_train_count"} and len(out["user"]) == 1000


def test_cold_start_metrics_equal_a_hand_count(sasrec_run):
    m = json.loads((sasrec_run / "metrics.json").read_text())
    for s in ("valid", "test"):
        o = read_outcomes(sasrec_run)[s]
        cold = o["target_train_count"] <= 20
        assert m[f"{s}/cold/n_users"] == int(cold.sum()) > 0
        assert m[f"{s}/cold/recall@10"] == pytest.approx(float((o["rank"][cold] < 10).mean()))
        assert m[f"{s}/cold/popular/recall@10"] == pytest.approx(float((o["popular_rank"][cold] < 10).mean()))
    # the report's cold-start table (analysis.cold) counts the same users from the record's own eval.cold_max
    from analysis import load_runs
    from analysis.cold import cold_section, cold_table

    df = load_runs(sasrec_run.parent)
    t, _ = cold_table(df, "test/recall@10")
    row = t.set_index("paradigm").loc["sasrec"]
    assert row["cold users"] == m["test/cold/n_users"] and row["cold_max"] == 20
    assert row["cold recall@10"] == pytest.approx(m["test/cold/recall@10"])
    assert row["cold popular recall@10"] == pytest.approx(m["test/cold/popular/recall@10"])
    assert f"| {m['test/cold/n_users']} (of 1000, <= 20) |" in "\n".join(cold_section(df, "test/recall@10"))


def test_presets_have_the_papers_sizes():
    """Table 3 of the 2025 study: 12 d^2 a layer, 98,304 ... 75,497,472 non-embedding parameters (weights; biases and
    norms add under 2%)."""
    table = {"t3-98k": 98_304, "t3-786k": 786_432, "t3-1.6m": 1_572_864, "t3-6.3m": 6_291_456, "t3-25m": 25_165_824,
             "t3-75m": 75_497_472}
    import torch

    for name, n in table.items():
        with torch.device("meta"):
            got = sasrec_params(SASRec(1000, 20, PRESETS[name], 0.1))["n_id_non_embedding"]
        assert n <= got <= 1.02 * n, (name, got, n)


def test_sasrec_on_movielens_100k_beats_most_popular(tmp_path, shared_cache):
    """A second domain from RecBole's own files, no conversion (`data.dataset=ml-100k`)."""
    cfg = config.load(overrides=["paradigm=sasrec", "data.dataset=ml-100k", "sasrec.preset=t3-98k",
                                 "train.max_steps=400", "train.eval_every=200", "train.batch_size=128"])
    d = run(cfg, tmp_path, shared_cache, SHARED_DATA, progress=False)
    m = json.loads((d / "metrics.json").read_text())
    assert json.loads((d / "data.json").read_text())["users"] == 943
    assert m["test/recall@10"] > m["test/popular/recall@10"], m

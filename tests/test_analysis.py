"""Scaling-law fitting on synthetic data with known parameters (parameter recovery and interval
coverage), degenerate input, saturation, extrapolation, comparison."""
import itertools

import numpy as np
import pytest

from analysis.bootstrap import bootstrap
from analysis.errors import AnalysisError
from analysis.fit import fit_arrays
from analysis.laws import LAWS
from analysis.saturation import compare, doubling_gain_size, extrapolation_check, saturation

N = np.repeat(np.logspace(5, 8, 8), 3)          # 8 sizes x 3 seeds
SCALE = float(np.exp(np.log(N).mean()))


def power_floor_data(seed, truth=(0.08, 0.02, 0.5), noise=0.002):
    rng = np.random.default_rng(seed)
    return truth[0] - truth[1] * (N / SCALE) ** -truth[2] + rng.normal(0, noise, len(N))


def test_power_floor_recovers_parameters():
    f = fit_arrays("power_floor", [N], power_floor_data(0, noise=0.0005))
    assert f.params["R0"] == pytest.approx(0.08, abs=0.002)
    assert f.params["A"] == pytest.approx(0.02, rel=0.1)
    assert f.params["a"] == pytest.approx(0.5, rel=0.1)
    assert f.scales[0] == pytest.approx(SCALE)


def test_power_law_recovers_and_model_selection():
    rng = np.random.default_rng(1)
    y_pow = 0.03 * (N / SCALE) ** 0.2 * np.exp(rng.normal(0, 0.01, len(N)))
    fp = fit_arrays("power", [N], y_pow)
    assert fp.params["a"] == pytest.approx(0.2, abs=0.02)
    y_sat = power_floor_data(2, noise=0.0005)
    assert fit_arrays("power_floor", [N], y_sat).aic < fit_arrays("power", [N], y_sat).aic


def test_two_source_recovers():
    n_si, n_cf = (np.array(v, float) for v in zip(*itertools.product(np.logspace(6, 9, 6), np.logspace(5, 7, 5))))
    sc = [np.exp(np.log(n_si).mean()), np.exp(np.log(n_cf).mean())]
    truth = np.array([0.1, 0.02, 0.4, 0.015, 0.7])
    y = LAWS["two_source"](truth, n_si / sc[0], n_cf / sc[1]) + np.random.default_rng(3).normal(0, 2e-4, len(n_si))
    f = fit_arrays("two_source", [n_si, n_cf], y)
    np.testing.assert_allclose(f.theta, truth, rtol=0.15, atol=0.002)


def test_sidgr_law_recovers_gammas():
    rs, llm, qt = np.logspace(5, 7.5, 6), np.logspace(7, 9.5, 5), np.array([2e5, 1e6, 5e6])
    n_rs, n_llm, n_qt = (np.array(v, float) for v in zip(*itertools.product(rs, llm, qt)))
    s = float(np.exp(np.log(n_rs).mean()))
    truth = np.array([0.09, 0.03, 0.5, 0.01, 0.8, 0.05, 0.3])   # R0, A, a, B, b, g1, g2
    y = LAWS["sidgr"](truth, n_rs / s, n_llm / s, n_qt / s) + np.random.default_rng(4).normal(0, 1e-4, len(n_rs))
    f = fit_arrays("sidgr", [n_rs, n_llm, n_qt], y)
    assert f.params["g1"] == pytest.approx(0.05, rel=0.2)
    assert f.params["g2"] == pytest.approx(0.3, rel=0.2)
    assert f.params["R0"] == pytest.approx(0.09, abs=0.003)


def test_bootstrap_interval_coverage():
    """Over 100 synthetic studies, the 95% intervals must cover the truth 90-99% of the time."""
    truth = {"R0": 0.08, "A": 0.02, "a": 0.5}
    cover = {p: 0 for p in truth}
    reps = 100
    for r in range(reps):
        y = power_floor_data(100 + r)
        b = bootstrap(fit_arrays("power_floor", [N], y), [N], y, n=200, seed=r)
        for p, (lo, hi) in b.ci().items():
            cover[p] += lo <= truth[p] <= hi
    rates = {p: c / reps for p, c in cover.items()}
    print("coverage of 95% bootstrap intervals:", rates)
    assert all(0.90 <= v <= 0.99 for v in rates.values()), rates


@pytest.mark.parametrize("n,y,msg", [
    (N[:3], [0.1, 0.2, 0.3], "has 3 parameters but only 3 points"),
    (N, np.full(len(N), 0.05), "all 24 metric values are equal"),
    (N, np.r_[np.nan, np.ones(len(N) - 1) * 0.1 + np.arange(len(N) - 1) * 1e-3], "NaN/infinite"),
    (np.full(len(N), 1e6), np.linspace(0, 1, len(N)), "size column N does not vary"),
])
def test_degenerate_input_is_one_line(n, y, msg):
    with pytest.raises(AnalysisError, match=msg):
        fit_arrays("power_floor", [n], y)
    with pytest.raises(AnalysisError, match="needs sizes N_SI, N_CF"):
        fit_arrays("two_source", [N], power_floor_data(0))


def test_saturation_number_and_interval():
    assert doubling_gain_size(0.1, 0.02, 0.5, 0.01) == pytest.approx((0.02 * (1 - 2 ** -0.5) / 0.001) ** 2)
    true_star = doubling_gain_size(0.08, 0.02, 1.0, 0.01) * SCALE
    covered = 0
    for seed in range(20):   # a 95% interval may miss once in a while: check its coverage, not one draw
        y = power_floor_data(500 + seed, truth=(0.08, 0.02, 1.0), noise=0.0005)
        sat = saturation(bootstrap(fit_arrays("power_floor", [N], y), [N], y, n=100, seed=seed), N.max(), frac=0.01)
        assert sat.within_range and sat.size == pytest.approx(true_star, rel=0.05)
        covered += sat.ci[0] <= true_star <= sat.ci[1]
    assert covered >= 16, covered
    slow = power_floor_data(6, truth=(0.2, 0.1, 0.3), noise=0.0005)   # still gaining >1% of R0 per doubling
    b2 = bootstrap(fit_arrays("power_floor", [N], slow), [N], slow, n=100)
    assert not saturation(b2, N.max(), frac=0.01).within_range
    assert "no saturation within the range" in saturation(b2, N.max()).describe()


def test_extrapolation_check_predicts_largest():
    y = power_floor_data(7, noise=0.0003)
    ex = extrapolation_check("power_floor", N, y, hold_out=1)
    assert len(ex.held_out_sizes) == 3 and ex.rel_error < 0.05


def test_compare_llm_overtakes_sid():
    sid_y = power_floor_data(8, truth=(0.06, 0.02, 0.8), noise=0.0005)
    llm_n = np.repeat(np.logspace(8, 10, 6), 2)
    llm_s = float(np.exp(np.log(llm_n).mean()))
    llm_y = 0.09 - 0.02 * (llm_n / llm_s) ** -0.4 + np.random.default_rng(9).normal(0, 5e-4, len(llm_n))
    sid = bootstrap(fit_arrays("power_floor", [N], sid_y), [N], sid_y, n=200)
    llm = bootstrap(fit_arrays("power_floor", [llm_n], llm_y), [llm_n], llm_y, n=200)
    c = compare(sid, llm, llm_n.max())
    true_at = 0.09 - 0.02 * (llm_n.max() / llm_s) ** -0.4
    assert c.rel_improvement_ci[0] <= (true_at - 0.06) / 0.06 <= c.rel_improvement_ci[1]
    true_over = llm_s * (0.02 / (0.09 - 0.06)) ** (1 / 0.4)
    assert c.overtake_ci[0] <= true_over <= c.overtake_ci[1]


def test_unidentified_ceiling_is_reported_not_a_number():
    """A curve still rising log-linearly pins R0 at its bound: saturation must say so, not give N*."""
    y = 0.01 + 0.004 * np.log(N / SCALE) + np.random.default_rng(11).normal(0, 1e-4, len(N))
    f = fit_arrays("power_floor", [N], y)
    sat = saturation(bootstrap(f, [N], y, n=50), N.max())
    assert f.at_bounds and sat.unidentified
    assert sat.describe().startswith("not identified")


def test_comparison_figure_shows_both_paradigms_when_their_ranges_do_not_overlap(tmp_path, monkeypatch):
    """Two curves at 0.01-0.03 and 0.10-0.11 (the quickstart's SID-GR vs LLM-as-RS): the y-axis spans both,
    bottom below top (per-curve limits once produced an inverted axis showing neither)."""
    import matplotlib.pyplot as plt

    from analysis import plots

    rng = np.random.default_rng(3)
    n1, n2 = np.logspace(5, 7, 4), np.logspace(5, 6.9, 4)
    y1 = 0.03 - 0.02 * (n1 / 1e5) ** -0.5 + rng.normal(0, 1e-3, 4)
    y2 = 0.11 - 0.01 * (n2 / 1e5) ** -0.7 + rng.normal(0, 1e-3, 4)
    curves = [{"n": n, "y": y, "boot": bootstrap(fit_arrays("power_floor", [n], y), [n], y, n=50), "label": lab}
              for n, y, lab in ((n1, y1, "sid"), (n2, y2, "llm"))]
    limits = []
    monkeypatch.setattr(plots, "save", lambda fig, path: limits.append(fig.axes[0].get_ylim()) or plt.close(fig))
    plots.plot_scaling(curves, "parameters", "recall", "t", tmp_path / "c")
    lo, hi = limits[0]
    assert lo < hi and lo <= min(y1.min(), y2.min()) and hi >= max(y1.max(), y2.max())


def _ladder(rows):
    """A runs table as load_runs gives it: one SID-GR recommender ladder, rows (preset, size, lr, valid, test)."""
    import pandas as pd
    return pd.DataFrame([{"paradigm": "sidgr", "run_id": f"{p}-{lr}", "model.preset": p, "n_rs_non_embedding": n,
                          "train.lr": lr, "data.augment": "prefix", "seed": 0, "valid/recall@10": v,
                          "test/recall@10": t} for p, n, lr, v, t in rows])


def test_a_ladder_with_a_learning_rate_per_size_is_one_curve_and_its_best_validated_lr_is_kept():
    """train.lr set by size (presets.lr_rule) does not split the ladder; where a size was run at two learning rates,
    the one with the better validation score is its point (not the one in the largest same-lr group), and the
    report says so; any other differing key still splits."""
    from analysis.study import axis_runs, fit_curve, selection_metric
    rows = [("tiny", 1e5, 1e-3, 0.16, 0.11), ("small", 1e6, 1e-3, 0.17, 0.13), ("grid", 4e6, 1e-3, 0.15, 0.10),
            ("grid", 4e6, 5e-4, 0.17, 0.134), ("medium", 1.1e7, 1.7e-4, 0.20, 0.17)]
    df = _ladder(rows)
    assert selection_metric(df) == "valid/recall@10"
    runs = axis_runs(df, "recommender", "valid/recall@10")
    assert sorted(runs["model.preset"]) == ["grid", "medium", "small", "tiny"]
    assert runs.set_index("model.preset").loc["grid", "train.lr"] == 5e-4
    assert any("kept train.lr=0.0005" in n and "train.lr=0.001 (0.1500)" in n for n in runs.attrs["choices"])
    c = fit_curve(df, "recommender", n_boot=50)
    assert sorted(c.runs) == ["grid-0.0005", "medium-0.00017", "small-0.001", "tiny-0.001"]
    assert any(n.startswith("train.lr differs between sizes") for n in c.choices)

    df.loc[df["model.preset"] == "medium", "data.augment"] = "all"   # a different recipe is not the same curve
    assert "medium" not in set(axis_runs(df, "recommender")["model.preset"])
    no_valid = _ladder(rows).drop(columns=["valid/recall@10"])
    with pytest.raises(AnalysisError, match="size 4e\\+06 has runs at several train.lr"):
        axis_runs(no_valid, "recommender", "valid/recall@10")


def test_a_record_without_a_later_key_reads_as_the_legacy_value_it_ran(tmp_path):
    """load_runs reads a record older than a HASHED_WHEN_SET key as the value it ran (the twin of
    config.from_dict(record=True)), and a newer record as written."""
    import json

    import scaling.config as config
    from analysis import load_runs

    for name, augment in (("sidgr-old", None), ("sidgr-new", "all")):
        d = tmp_path / name
        d.mkdir()
        cfg = config.load(overrides=["data.augment=all"], bf16=False).to_dict()
        if augment is None:
            del cfg["data"]["augment"]
        (d / "config.json").write_text(json.dumps(cfg))
        (d / "metrics.json").write_text(json.dumps({"test": {"recall@10": 0.1}}))
        (d / "status").write_text("done\n")
    df = load_runs(tmp_path).set_index("run_id")
    assert df.loc["sidgr-old", "data.augment"] == "prefix" and df.loc["sidgr-new", "data.augment"] == "all"

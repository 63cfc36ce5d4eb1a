"""Parsers for the on-disk formats. Every problem is a one-line DataError naming file and line."""
from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path

from scaling.errors import DataError


def open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if str(path).endswith(".gz") else open(path, encoding="utf-8")


def iter_lines(path: Path):
    """(line number, text) of a UTF-8 (optionally gzipped) text file, decoded line by line so a bad byte is
    reported at its line: a one-line DataError, not a UnicodeDecodeError from deep in a reader."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            for n, raw in enumerate(f, 1):
                try:
                    yield n, raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise DataError(f"{path}:{n}: not UTF-8 text (byte 0x{raw[e.start]:02x} at column {e.start + 1}); "
                                    "re-save the file as UTF-8") from None
    except (OSError, EOFError) as e:   # e.g. a truncated or corrupt .gz
        raise DataError(f"{path}: cannot be read ({type(e).__name__}: {e}); restore the file") from None


def read_sequences(path: Path, known_items: set | None = None,
                   integer_ids: bool = False) -> tuple[list[str], list[list[str]]]:
    """`user item item ...` per line, chronological. Returns user ids and item-id sequences."""
    if not path.is_file():
        raise DataError(f"{path}: sequence file not found")
    users, seqs, first_line = [], [], {}
    for n, line in iter_lines(path):
        parts = line.split()
        if not parts:
            continue
        if integer_ids and not all(t.isdigit() for t in parts):
            raise DataError(f"{path}:{n}: malformed line, expected integers 'user_id item_id ...', "
                            f"got {line.strip()[:60]!r}")
        user, items = parts[0], parts[1:]
        if user in first_line:
            raise DataError(f"{path}:{n}: duplicate user '{user}' (first at line {first_line[user]}); "
                            "give each user one line")
        if not items:
            raise DataError(f"{path}:{n}: user '{user}' has an empty sequence; remove the line")
        if known_items is not None:
            for it in items:
                if it not in known_items:
                    raise DataError(f"{path}:{n}: unknown item id '{it}' in the sequence of user "
                                    f"'{user}'; it is not in the item table")
        first_line[user] = n
        users.append(user)
        seqs.append(items)
    if not users:
        raise DataError(f"{path}: no sequences found")
    return users, seqs


def read_jsonl(path: Path, what: str) -> list[dict]:
    if not path.is_file():
        raise DataError(f"{path}: {what} not found")
    rows = []
    for n, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{n}: malformed JSON ({e.msg})") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{n}: expected a JSON object per line")
        rows.append(row)
    return rows


def read_loose_json_lines(path: Path) -> list[dict]:
    """McAuley's 2014 files: strict JSON (reviews) or Python dict literals (meta), one per line."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    rows = []
    for n, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            try:
                row = ast.literal_eval(line)
            except (ValueError, SyntaxError):
                raise DataError(f"{path}:{n}: malformed line (neither JSON nor a Python dict literal)") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{n}: expected one object per line")
        rows.append(row)
    return rows

"""Semantic IDs as the LLM's item representation (`llm.item_repr=sid`, the 2025 study's Table 5): every item is
written as its SID's digits, one new vocabulary token per (level, value) — `<sid_0_12><sid_1_3><sid_2_40>` — so a
history line is `- <sid_0_12><sid_1_3><sid_2_40>\n` and the target is the SID then eos. The title trie over these
ids is the SID trie: constrained decoding writes only SIDs that exist, and items sharing a SID share its leaf.
"""
from __future__ import annotations

import numpy as np


def sid_token_names(widths: list[int]) -> list[str]:
    """One token per digit value of every level, level-major."""
    return [f"<sid_{level}_{v}>" for level, w in enumerate(widths) for v in range(int(w))]


def sid_name_ids(codes: np.ndarray, widths: list[int], token_ids: list[int]) -> list[np.ndarray]:
    """Per item, the token ids of its SID (`token_ids`: the ids of sid_token_names(widths), in order)."""
    offset = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    ids = np.asarray(token_ids, dtype=np.int64)[np.asarray(codes, np.int64) + offset]
    return list(ids)


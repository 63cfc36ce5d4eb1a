"""Prompts of item names -> token ids, built from pieces tokenized once per run.

Plain template (default)::

    [bos]Here is a shopper's purchase history, oldest first:
    - <name 1>
    ...
    - <name n>
    The next item they buy:<name>[eos]          <- target: the next item's name, then eos

`llm.prompt=chat` puts the same history inside the model's chat template (user turn; the target is the
assistant turn). Every item's line and name are tokenized once; a prompt is a concatenation of cached
ids, so the title in a history line and the title the model writes are the same tokens. Names are cut
to `max_title_tokens`. The whole prompt (template + lines) must fit `max_prompt_tokens`: the oldest items
are dropped until it does, and how often that happens is counted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scaling.config import LLMConfig
from scaling.data.split import Examples
from scaling.errors import ConfigError

HEAD = "Here is a shopper's purchase history, oldest first:\n"
TAIL = "The next item they buy:"
_SLOT = "\u0000HISTORY\u0000"


@dataclass
class Prompts:
    head: list[int]               # template before the history (bos included where the model wants one)
    tail: list[int]               # template after the history
    lines: list[np.ndarray]       # per item: "- <name>\n"
    names: list[np.ndarray]       # per item: "<name>" ids (cut to max_title_tokens), the target without eos
    eos: int
    pad: int
    budget: int                   # max prompt tokens

    def __post_init__(self):
        self.line_len = np.array([len(x) for x in self.lines], dtype=np.int64)

    def fit(self, ex: Examples) -> tuple[Examples, np.ndarray]:
        """Drop the oldest items of each history until its prompt fits the budget.
        Returns the cut examples and the number of items dropped per example."""
        h = ex.history
        ln = np.where(h >= 0, self.line_len[np.maximum(h, 0)], 0)
        from_newest = np.cumsum(ln[:, ::-1], axis=1)[:, ::-1]       # tokens of this item and all newer ones
        keep = (h >= 0) & (from_newest <= self.budget - len(self.head) - len(self.tail))
        dropped = (h >= 0).sum(1) - keep.sum(1)
        return Examples(np.where(keep, h, -1), ex.target, ex.user), dropped

    def prompt(self, history_row: np.ndarray) -> list[int]:
        items = history_row[history_row >= 0]
        body = np.concatenate([self.lines[i] for i in items]) if len(items) else np.zeros(0, np.int64)
        return self.head + body.tolist() + self.tail

    def target(self, item: int) -> list[int]:
        return self.names[item].tolist() + [self.eos]


def _ids(tok, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"]


def build_prompts(tok, names: list[str], cfg: LLMConfig, context: int,
                  name_ids: list[np.ndarray] | None = None) -> Prompts:
    """Tokenize the template and every item's name once. `context`: the model's maximum positions. `name_ids`: the
    items' token ids given (SIDs, scaling.llmrs.sid_items), instead of their names tokenized."""
    if cfg.prompt == "chat":
        if not getattr(tok, "chat_template", None):
            raise ConfigError(f"llm.prompt=chat: model '{cfg.name}' has no chat template; use llm.prompt=plain")
        text = tok.apply_chat_template([{"role": "user", "content": HEAD + _SLOT + "Which item do they buy next? "
                                         "Answer with its title."}], tokenize=False, add_generation_prompt=True)
        before, after = text.split(_SLOT)
        head, tail = _ids(tok, before), _ids(tok, after)
    else:
        head, tail = _ids(tok, HEAD), _ids(tok, TAIL)
        adds_bos = tok.bos_token_id is not None and tok("a")["input_ids"][:1] == [tok.bos_token_id]
        if adds_bos:   # e.g. Gemma needs <bos> first
            head = [tok.bos_token_id] + head
    dash, newline = _ids(tok, "-"), _ids(tok, "\n")
    if name_ids is None:
        enc = tok([" " + n for n in names], add_special_tokens=False)["input_ids"]
        name_ids = [np.array(e[: cfg.max_title_tokens], dtype=np.int64) for e in enc]
    lines = [np.array(dash + e.tolist() + newline, dtype=np.int64) for e in name_ids]
    eos = tok.eos_token_id
    pad = tok.pad_token_id if tok.pad_token_id is not None else eos
    p = Prompts(head, tail, lines, name_ids, eos, pad, cfg.max_prompt_tokens)
    need = len(head) + len(tail) + int(p.line_len.max())
    if need > cfg.max_prompt_tokens:
        raise ConfigError(f"llm.max_prompt_tokens={cfg.max_prompt_tokens} cannot hold the template and one item "
                          f"({need} tokens); raise it to at least {need}")
    if cfg.max_prompt_tokens + cfg.max_title_tokens + 1 > context:
        raise ConfigError(f"llm.max_prompt_tokens + llm.max_title_tokens + 1 = "
                          f"{cfg.max_prompt_tokens + cfg.max_title_tokens + 1} exceeds model '{cfg.name}' context of "
                          f"{context} tokens; lower llm.max_prompt_tokens")
    return p

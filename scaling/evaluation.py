"""The final evaluation both paradigms share: the same validation and test users, the same metrics,
and the most-popular baseline on the same split beside them."""
from __future__ import annotations

from typing import Callable

import numpy as np

from scaling.data.split import Examples, Split, most_popular
from scaling.metrics import ranking_metrics


def eval_sets(split: Split, n_users: int) -> dict[str, Examples]:
    """Validation and test examples of the first `n_users` of a fixed permutation (0 = all)."""
    return {"valid": split.valid.sample(n_users), "test": split.test.sample(n_users)}


def popular_metrics(split: Split, n_users: int, prefix: str = "popular/") -> dict:
    top = most_popular(split, 10)
    out = {}
    for name, ex in eval_sets(split, n_users).items():
        m = ranking_metrics(np.broadcast_to(top, (len(ex), 10)), ex.target)
        out.update({f"{name}/{prefix}{k}": v for k, v in m.items()})
    return out


def final_metrics(evaluate: Callable[[Examples, str], dict], split: Split, n_users: int) -> dict:
    """`evaluate(examples, description) -> metrics` on validation and test, plus most-popular."""
    out = {}
    for name, ex in eval_sets(split, n_users).items():
        out.update({f"{name}/{k}": v for k, v in evaluate(ex, f"decode {name}").items()})
    out.update(popular_metrics(split, n_users))
    return out

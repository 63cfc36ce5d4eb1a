"""The final evaluation both paradigms share: the same validation and test users, the same metrics,
and the most-popular baseline on the same split beside them."""
from __future__ import annotations

from typing import Callable

import numpy as np

from scaling.data.split import Examples, Split, most_popular
from scaling.metrics import ranking_metrics


def best_validation(state, valid_users: int, test_users: int) -> dict | None:
    """The curve entry of the best step, if validation used the final evaluation's users."""
    if valid_users != test_users:
        return None
    return next((c for c in state.curve if c["step"] == state.best_step), None)


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


def final_metrics(evaluate: Callable[[Examples, str], dict], split: Split, n_users: int,
                  best_validation: dict | None = None) -> dict:
    """`evaluate(examples, description) -> metrics` on validation and test, plus most-popular.

    `best_validation`: the training curve's entry for the kept (best) weights, when it was measured on
    these same validation users (eval.valid_users == eval.test_users); decoding is deterministic, so it
    is reused instead of decoding the validation users a second time."""
    out = {}
    for name, ex in eval_sets(split, n_users).items():
        if name == "valid" and best_validation is not None:
            m = {k: v for k, v in best_validation.items() if k not in ("step", "epoch")}
        else:
            m = evaluate(ex, f"decode {name}")
        out.update({f"{name}/{k}": v for k, v in m.items()})
    out.update(popular_metrics(split, n_users))
    return out

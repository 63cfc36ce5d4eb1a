"""The final evaluation both paradigms share: the same validation and test users, the same metrics,
the most-popular baseline on the same split beside them, and per-user outcomes for all three."""
from __future__ import annotations

import numpy as np

from scaling.data.split import Examples, Split, most_popular
from scaling.decode import Decoder, evaluate
from scaling.metrics import rank_metrics, rank_of_target, ranking_metrics

POPULAR_K = 10


def train_counts(split: Split) -> np.ndarray:
    """How often each item occurs in the training sequences (what a model can have learnt it from)."""
    return np.bincount(np.concatenate(split.train_sequences), minlength=split.n_items)


def cold_metrics(outcomes: dict, cold_max: int) -> dict:
    """Metrics on the evaluation users whose target is a cold item (seen <= `cold_max` times in training), for the
    model (`rank`) and most-popular beside it: `<set>/cold/...`, `<set>/cold/popular/...`, `<set>/cold/n_users`."""
    out = {}
    for name, o in outcomes.items():
        cold = np.asarray(o["target_train_count"]) <= cold_max
        out[f"{name}/cold/n_users"] = int(cold.sum())
        for field, prefix in (("rank", ""), ("popular_rank", "popular/")):
            if field in o:
                out.update({f"{name}/cold/{prefix}{k}": v for k, v in rank_metrics(np.asarray(o[field])[cold]).items()})
    return out


def best_validation(state, valid_users: int, test_users: int) -> dict | None:
    """The curve entry of the best step (with its per-user outcomes), if validation used the final
    evaluation's users and kept them."""
    if valid_users != test_users or not state.best_per_user:
        return None
    entry = next((c for c in state.curve if c["step"] == state.best_step), None)
    if entry is None:
        return None
    return {**entry, "per_user": {k: np.asarray(v) for k, v in state.best_per_user.items()}}


def eval_sets(split: Split, n_users: int) -> dict[str, Examples]:
    """Validation and test examples of the first `n_users` of a fixed permutation (0 = all)."""
    return {"valid": split.valid.sample(n_users), "test": split.test.sample(n_users)}


def popular_metrics(split: Split, n_users: int, prefix: str = "popular/") -> tuple[dict, dict]:
    """Most-popular's metrics on the evaluation users, and its per-user outcomes (`popular_rank`: the target's
    0-based rank in its top POPULAR_K, POPULAR_K = not in it)."""
    top = most_popular(split, POPULAR_K)
    counts = train_counts(split)
    out, outcomes = {}, {}
    for name, ex in eval_sets(split, n_users).items():
        topk = np.broadcast_to(top, (len(ex), POPULAR_K))
        out.update({f"{name}/{prefix}{k}": v for k, v in ranking_metrics(topk, ex.target).items()})
        outcomes[name] = {"user": ex.user.astype(np.int32),
                          "popular_rank": rank_of_target(topk, ex.target).astype(np.int16),
                          "target_train_count": counts[ex.target].astype(np.int32)}   # cold start (cold_metrics)
    return out, outcomes


def final_metrics(dec: Decoder, split: Split, n_users: int, best_validation: dict | None = None,
                  progress: bool = False, dist=None, cold_max: int = 5) -> tuple[dict, dict, dict]:
    """Decode validation and test users: (metrics with most-popular beside them, per-user outcomes of both
    sets, the test decode's serving cost).

    `best_validation`: the training curve's entry for the kept (best) weights with its per-user outcomes,
    when it was measured on these same validation users (eval.valid_users == eval.test_users); decoding is
    deterministic, so it is reused instead of decoding the validation users a second time. `dist`: every rank
    of a multi-rank job decodes its share (scaling.decode.recommend). Cold-start metrics beside them: targets
    seen <= `cold_max` times in training (eval.cold_max)."""
    popular, outcomes = popular_metrics(split, n_users)
    out, serving = {}, {}
    for name, ex in eval_sets(split, n_users).items():
        if name == "valid" and best_validation is not None:
            m = {k: v for k, v in best_validation.items() if k not in ("step", "epoch")}
        else:
            m = evaluate(dec, ex, progress, f"decode {name}", dist)
        per_user = m.pop("per_user")
        if name == "test":
            serving = m.pop("serving")
        m.pop("serving", None)
        if not np.array_equal(per_user["user"], ex.user):
            raise RuntimeError(f"{name}: per-user outcomes are not for the evaluation users")
        outcomes[name]["rank"] = np.asarray(per_user["rank"], dtype=np.int16)
        out.update({f"{name}/{k}": v for k, v in m.items()})
    out.update(popular)
    out.update(cold_metrics(outcomes, cold_max))
    return out, outcomes, serving

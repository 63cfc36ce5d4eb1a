"""Scaling laws as small named objects: formula, parameter names, bounds, initial-value grid.

Sizes enter divided by a reference size (`scale`, the geometric mean of the data), so parameters
stay well conditioned: with N' = N / scale, `R0 - A*N'^-a` has A of the order of the metric's range.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Law:
    name: str
    formula: str
    params: tuple[str, ...]
    inputs: tuple[str, ...]                 # size columns the law reads, in order
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    init_grid: dict[str, tuple[float, ...]]
    fn: Callable[..., np.ndarray] = field(repr=False)
    doc: str = ""
    ceiling: str | None = "R0"              # parameter that is the metric's ceiling, if any
    jac: Callable[..., np.ndarray] | None = field(default=None, repr=False)   # d fn / d theta, (n, k); None: finite
    #                                       differences (an analytic one halves a bootstrap's time: see fit_arrays)
    linear: tuple[str, ...] = ()            # parameters the law is linear in with no other term (fn = sum theta_j
    #                                       d fn/d theta_j over them): a start's best values of these are one exact
    #                                       linear solve, which is how fit_arrays screens a large start grid
    canonical: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)   # one labelling of a
    #                                       law whose parameters can be exchanged without changing it (fit_arrays
    #                                       applies it to every fit, and so to every bootstrap resample)

    def __call__(self, theta, *sizes) -> np.ndarray:
        return self.fn(theta, *sizes)

    def describe(self) -> str:
        return f"{self.name}: {self.formula}\n{self.doc}"


def _power_floor(t, n):
    r0, a_, alpha = t
    return r0 - a_ * n ** (-alpha)


def _power_floor_jac(t, n):
    _, a_, alpha = t
    p = n ** (-alpha)
    return np.stack([np.ones_like(n), -p, a_ * p * np.log(n)], axis=1)


def _power(t, n):
    c, alpha = t
    return c * n ** alpha


def _two_source(t, n_si, n_cf):
    r0, a_, alpha, b, beta = t
    return r0 - a_ * n_si ** (-alpha) - b * n_cf ** (-beta)


def _sidgr(t, n_rs, n_llm, n_qt):
    r0, a_, alpha, b, beta, g1, g2 = t
    return r0 - a_ * (n_rs + g1 * n_llm + g2 * n_qt) ** (-alpha) - b * n_rs ** (-beta)


def _sidgr_jac(t, n_rs, n_llm, n_qt):
    _, a_, alpha, b, beta, g1, g2 = t
    x = n_rs + g1 * n_llm + g2 * n_qt
    px, pn = x ** (-alpha), n_rs ** (-beta)
    dx = a_ * alpha * px / x                     # d/dx of -A x^-a, times dx/dg
    return np.stack([np.ones_like(x), -px, a_ * px * np.log(x), -pn, b * pn * np.log(n_rs), dx * n_llm, dx * n_qt], 1)


def _llmrs(t, n_lora, n_llm):
    r0, a_, alpha, b, beta_exp, g, beta = t
    return r0 - a_ * (n_lora + g * n_llm) ** (-alpha) - b * (n_lora + beta * n_llm) ** (-beta_exp)


def _llmrs_jac(t, n_lora, n_llm):
    _, a_, alpha, b, beta_exp, g, beta = t
    x, z = n_lora + g * n_llm, n_lora + beta * n_llm
    px, pz = x ** (-alpha), z ** (-beta_exp)
    return np.stack([np.ones_like(x), -px, a_ * px * np.log(x), -pz, b * pz * np.log(z),
                     a_ * alpha * px / x * n_llm, b * beta_exp * pz / z * n_llm], 1)


def _llmrs_canonical(t):
    """The LLM-as-RS law is unchanged when its two terms trade places ((A, a, g) <-> (B, b, beta)): without a
    labelling a fit, or any bootstrap resample of it, may land on either, and each parameter's interval then mixes
    the two terms (the paper's own Table 7 shows it: Toys' A and B are Beauty's the other way round). The semantic
    term is the one in which a frozen LLM parameter is worth more, g >= beta, as in all three of Table 7's fits."""
    t = np.array(t, float)
    if t[6] > t[5]:
        t[[1, 2, 5, 3, 4, 6]] = t[[3, 4, 6, 1, 2, 5]]
    return t


def _llmrs_no_cf(t, n_lora, n_llm):
    r0, a_, alpha, b, beta_exp, g = t
    return r0 - a_ * (n_lora + g * n_llm) ** (-alpha) - b * n_lora ** (-beta_exp)


def _llmrs_no_cf_jac(t, n_lora, n_llm):
    return _llmrs_jac(np.append(t, 0.0), n_lora, n_llm)[:, :6]


EXP = (0.05, 0.3, 1.0)
POWER_FLOOR = Law(
    "power_floor", "metric = R0 - A * N^(-a)", ("R0", "A", "a"), ("N",),
    (0.0, 0.0, 1e-3), (1.0, 10.0, 3.0), {"R0": (), "A": (0.01, 0.1), "a": EXP}, _power_floor,
    doc="R0: the ceiling the metric approaches as N grows; A: how far below it the reference size sits; "
        "a: how fast the gap closes (larger = faster saturation). N in units of the reference size.",
    jac=_power_floor_jac, linear=("R0", "A"))
POWER = Law(
    "power", "metric = C * N^a", ("C", "a"), ("N",), (0.0, -3.0), (10.0, 3.0),
    {"C": (), "a": (0.01, 0.1, 0.3)}, _power, ceiling=None,
    doc="Plain power law without a ceiling (the non-saturating alternative); C: metric at the reference "
        "size; a: growth exponent.")
TWO_SOURCE = Law(
    "two_source", "Recall@k = R0 - A / N_SI^a - B / N_CF^b", ("R0", "A", "a", "B", "b"), ("N_SI", "N_CF"),
    (0.0, 0.0, 1e-3, 0.0, 1e-3), (1.0, 10.0, 3.0, 10.0, 3.0),
    {"R0": (), "A": (0.01, 0.1), "a": EXP, "B": (0.01, 0.1), "b": EXP}, _two_source,
    doc="The paper's two-source law. N_SI: parameters carrying semantic information (encoder, "
        "tokenizer); N_CF: parameters learning collaborative filtering (the recommender). A, a and B, b: "
        "size and decay of each source's gap to the ceiling R0.")
SIDGR = Law(
    "sidgr", "Recall@k = R0 - A / (N_RS + g1*N_LLM + g2*N_QT)^a - B / N_RS^b",
    ("R0", "A", "a", "B", "b", "g1", "g2"), ("N_RS", "N_LLM", "N_QT"),
    (0.0, 0.0, 1e-3, 0.0, 1e-3, 0.0, 0.0), (1.0, 10.0, 3.0, 10.0, 3.0, 100.0, 1000.0),
    {"R0": (), "A": (0.01, 0.1), "a": EXP, "B": (0.01, 0.1), "b": EXP, "g1": (0.1, 1.0), "g2": (1.0, 10.0)},
    _sidgr, jac=_sidgr_jac, linear=("R0", "A", "B"),
    doc="The paper's SID-GR form, fitted jointly over runs varying encoder, tokenizer and recommender. "
        "g1 (g2): how much one encoder (tokenizer) parameter is worth relative to one recommender "
        "parameter; B/N_RS^b: the recommender's own collaborative-filtering term.")
LLMRS = Law(
    "llmrs", "Recall@k = R0 - A / (N_LoRA + g*N_LLM)^a - B / (N_LoRA + beta*N_LLM)^b",
    ("R0", "A", "a", "B", "b", "g", "beta"), ("N_LoRA", "N_LLM"),
    (0.0, 0.0, 1e-3, 0.0, 1e-3, 0.0, 0.0), (1.0, 10.0, 3.0, 10.0, 3.0, 10.0, 10.0),
    {"R0": (), "A": (0.01, 0.1), "a": EXP, "B": (0.01, 0.1), "b": EXP, "g": (0.01, 0.3), "beta": (0.0, 0.05)},
    _llmrs, jac=_llmrs_jac, linear=("R0", "A", "B"), canonical=_llmrs_canonical,
    doc="The paper's LLM-as-RS form (its Table 7), fitted jointly over LLM size x LoRA size. g: how much one frozen "
        "LLM parameter is worth relative to one trained LoRA parameter in the semantic term; beta: the same in the "
        "collaborative term — beta > 0 means a larger LLM also learns collaborative signal (the CF test: "
        "analysis.joint.cf_test). The two terms are told apart by g >= beta (the law is the same with them swapped).")
LLMRS_NO_CF = Law(
    "llmrs_no_cf", "Recall@k = R0 - A / (N_LoRA + g*N_LLM)^a - B / N_LoRA^b",
    ("R0", "A", "a", "B", "b", "g"), ("N_LoRA", "N_LLM"),
    (0.0, 0.0, 1e-3, 0.0, 1e-3, 0.0), (1.0, 10.0, 3.0, 10.0, 3.0, 10.0),
    {"R0": (), "A": (0.01, 0.1), "a": EXP, "B": (0.01, 0.1), "b": EXP, "g": (0.01, 0.3)}, _llmrs_no_cf, jac=_llmrs_no_cf_jac,
    linear=("R0", "A", "B"),
    doc="The LLM-as-RS law with beta = 0: the LLM's size adds nothing to the collaborative term (the CF test's null).")
LAWS = {law.name: law for law in (POWER_FLOOR, POWER, TWO_SOURCE, SIDGR, LLMRS, LLMRS_NO_CF)}
JOINT_LAWS = ("sidgr", "llmrs", "llmrs_no_cf")   # sizes of one kind (parameters) in one common unit

"""Cost-quality frontier (analysis.frontier) and the decode-FLOPs counts it rests on."""
import numpy as np
import pandas as pd
import pytest

from analysis.errors import AnalysisError
from analysis.frontier import frontiers, pareto_mask, serving_ratio, to_reference_seconds


def _brute_force(cost, q):
    keep = []
    for i in range(len(cost)):
        dom = any(cost[j] <= cost[i] and q[j] >= q[i] and (cost[j] < cost[i] or q[j] > q[i]) for j in range(len(cost)))
        keep.append(not dom)
    return np.array(keep)


def test_frontier_is_exactly_the_non_dominated_set():
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(1, 30))
        cost = rng.integers(1, 10, n).astype(float)         # ties in cost and in quality on purpose
        q = rng.integers(0, 6, n) / 10
        assert np.array_equal(pareto_mask(cost, q), _brute_force(cost, q)), trial


def test_missing_costs_are_never_on_the_frontier():
    m = pareto_mask(np.array([1.0, np.nan, 3.0]), np.array([0.1, 0.9, 0.2]))
    assert m.tolist() == [True, False, True]


def _runs():
    return pd.DataFrame({
        "paradigm": ["sidgr", "sidgr", "sidgr", "llmrs", "llmrs"],
        "run_id": list("abcde"),
        "test/recall@10": [0.02, 0.03, 0.025, 0.08, 0.09],
        "train_flops_total": [1e12, 4e12, 8e12, 1e15, 3e15],
        "serving.users_per_s": [100.0, 50.0, 200.0, 1.0, 0.5],
        "serving.device": ["cpu", "cpu", "cuda:0", "cpu", "cpu"],
        "serving.decode_flops_per_user": [1e8, 4e8, 4e8, 1e11, 3e11],
        "serving.threads": [2, 2, 2, 2, 2]})


def test_devices_are_kept_apart_or_converted_explicitly():
    df = _runs()
    fr = frontiers(df, "serving.seconds_per_user")
    kinds = {(f.paradigm, f.device_kind) for f in fr}
    assert kinds == {("sidgr", "cpu"), ("sidgr", "cuda"), ("llmrs", "cpu")}   # a GPU run never shares a CPU frontier
    with pytest.raises(AnalysisError, match="no conversion factor for device kind"):
        to_reference_seconds(df, "serving.seconds_per_user", {"cpu": 1.0})
    conv = to_reference_seconds(df, "serving.seconds_per_user", {"cpu": 1.0, "cuda": 30.0})
    assert conv.loc[2, "serving.seconds_per_user"] == pytest.approx(30.0 / 200)
    fr = frontiers(conv, "serving.seconds_per_user")
    assert {f.device_kind for f in fr} == {"reference"}


def test_estimated_costs_and_best_within_budget():
    fr = {f.paradigm: f for f in frontiers(_runs(), "train_flops_total")}
    assert fr["sidgr"].runs["run_id"].tolist() == ["a", "b"]      # c costs more and is worse than b
    assert fr["sidgr"].best_within(5e12)["run_id"] == "b"
    assert fr["sidgr"].best_within(1e11) is None
    r = serving_ratio(_runs())
    assert len(r) == 1 and r[0]["device_kind"] == "cpu"
    assert r[0]["seconds_ratio"] == pytest.approx((1 / 0.75) / (1 / 75.0))   # medians: 0.75 vs 75 users/s


def test_sid_decode_flops_match_a_hand_count():
    """T5 (encdec), d_model 64, 2+2 layers, 4 heads of 16, d_ff 128, SID widths [4, 8, 3], beam 5, history 30 tokens."""
    from transformers import T5Config, T5ForConditionalGeneration

    from scaling.params import sid_decode_flops_per_user

    d, inner, ff, L, V, H = 64, 64, 128, 2, 3 + 4 + 8 + 3, 4
    model = T5ForConditionalGeneration(T5Config(vocab_size=V, d_model=d, d_kv=16, d_ff=ff, num_layers=L,
                                                num_decoder_layers=L, num_heads=H, feed_forward_proj="relu",
                                                tie_word_embeddings=True, decoder_start_token_id=0))
    enc = L * (4 * d * inner + 2 * d * ff + 2 * d) + d + 32 * H             # + final norm, relative bias
    dec = L * (8 * d * inner + 2 * d * ff + 3 * d) + d + 32 * H
    kv = L * 2 * d * inner                                                  # cross-attention K, V
    head = V * d
    T = 30.0
    rows = [1, 4, 5]                                                        # min(beam, 1), min(5, 4), min(5, 32)
    hand = 2 * enc * T + sum(r * (2 * (dec - kv) * (i + 1) + 2 * kv * T + 2 * head * (i + 1)) for i, r in enumerate(rows))
    assert sid_decode_flops_per_user(model, T, [4, 8, 3], 5) == pytest.approx(hand, rel=1e-12)


def test_llm_decode_flops_match_a_hand_count():
    """Llama, d 64, 2 layers, 4 heads, d_ff 160, vocab 500 (tied), prompt 40 tokens, titles of 6 tokens, beam 4."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from scaling.llmrs.model import LoadedLLM, llm_decode_flops_per_user

    d, L, ff, V = 64, 2, 160, 500
    model = LlamaForCausalLM(LlamaConfig(vocab_size=V, hidden_size=d, intermediate_size=ff, num_hidden_layers=L,
                                         num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=True))
    n = sum(p.numel() for p in model.parameters())
    llm = LoadedLLM(None, model, n, V * d, V * d, 0, 128, "test")
    body = L * (4 * d * d + 3 * d * ff + 2 * d) + d
    assert n == body + V * d
    hand = 2 * body * 40 + 2 * V * d + (6 - 1) * 4 * 2 * (body + V * d)
    assert llm_decode_flops_per_user(llm, 40.0, 6.0, 4) == pytest.approx(hand, rel=1e-12)

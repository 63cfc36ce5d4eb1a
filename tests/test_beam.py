"""Beam search against brute force on tiny random recommenders (both architectures)."""
import itertools

import numpy as np
import pytest
import torch

from scaling.config import ModelConfig
from scaling.metrics import ranking_metrics
from scaling.sidgr.batching import SIDBatcher
from scaling.sidgr.beam import beam_search
from scaling.sidgr.model import BOS, PAD, TokenLayout, build_model
from scaling.sidgr.trie import SIDTrie

WIDTHS = [3, 4, 2]


def setup(arch, n_users_buckets=0, seed=0):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    all_codes = np.array(list(itertools.product(*[range(w) for w in WIDTHS])))
    codes = all_codes[rng.choice(len(all_codes), 10, replace=False)]       # 10 of 24 SIDs are real items
    layout = TokenLayout(WIDTHS, n_users_buckets)
    model = build_model(ModelConfig(arch=arch, preset="tiny", dropout=0.0, loss="vocab"), layout).eval()
    batcher = SIDBatcher(layout.item_tokens(torch.from_numpy(codes)), layout, arch)
    hist = np.array([[-1, -1, 3, 1], [0, 2, 5, 7], [-1, -1, -1, 9]])
    return codes, layout, model, batcher, hist


def exact_logprob(model, arch, layout, ids, mask, sid_tokens):
    """Sum over digits of log_softmax restricted to that digit's token block, teacher-forced."""
    with torch.no_grad():
        if arch == "encdec":
            dec = torch.cat([torch.tensor([PAD]), sid_tokens[:-1]])[None]
            logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec).logits[0]
        else:
            full = torch.cat([ids[0][mask[0].bool()], torch.tensor([BOS]), sid_tokens])[None]
            logits = model(input_ids=full).logits[0, -len(sid_tokens) - 1:-1]
    return sum(float(logits[d, o:o + w].log_softmax(-1)[int(t) - o])
               for d, (o, w, t) in enumerate(zip(layout.offsets, layout.widths, sid_tokens)))


@pytest.mark.parametrize("arch", ["encdec", "decoder"])
def test_constrained_beam_is_exact_when_wide(arch):
    codes, layout, model, batcher, hist = setup(arch)
    trie = SIDTrie(codes, WIDTHS)
    ids, mask = batcher.history_tokens(hist, np.arange(len(hist)))
    res = beam_search(model, arch, ids, mask, layout, trie, beam_size=24, constrained=True)
    for u in range(len(hist)):
        items = res.items[u][res.scores[u] > -np.inf]
        assert sorted(items.tolist()) == list(range(len(codes)))          # every real item, each once
        u_ids, u_mask = batcher.history_tokens(hist[u:u + 1], np.array([u]))
        exact = [exact_logprob(model, arch, layout, u_ids, u_mask, batcher.item_tokens[i]) for i in items]
        np.testing.assert_allclose(res.scores[u][: len(items)].numpy(), exact, rtol=1e-4, atol=1e-4)
        assert all(a >= b - 1e-6 for a, b in zip(exact, exact[1:]))       # best first


@pytest.mark.parametrize("arch", ["encdec", "decoder"])
def test_batched_equals_one_user_at_a_time(arch):
    codes, layout, model, batcher, hist = setup(arch)
    trie = SIDTrie(codes, WIDTHS)
    ids, mask = batcher.history_tokens(hist, np.arange(len(hist)))
    batched = beam_search(model, arch, ids, mask, layout, trie, beam_size=5, constrained=True)
    for u in range(len(hist)):
        ui, um = batcher.history_tokens(hist[u:u + 1], np.array([u]))
        single = beam_search(model, arch, ui, um, layout, trie, beam_size=5, constrained=True)
        assert batched.items[u].tolist() == single.items[0].tolist()
        np.testing.assert_allclose(batched.scores[u].numpy(), single.scores[0].numpy(), rtol=1e-4, atol=1e-5)


def test_free_beam_can_leave_the_catalogue_constrained_cannot():
    codes, layout, model, batcher, hist = setup("encdec")
    trie = SIDTrie(codes, WIDTHS)
    ids, mask = batcher.history_tokens(hist, np.arange(len(hist)))
    free = beam_search(model, "encdec", ids, mask, layout, trie, beam_size=24, constrained=False)
    assert (free.items < 0).sum() == 3 * (24 - 10)      # all 24 SIDs returned; 14 are not items
    cons = beam_search(model, "encdec", ids, mask, layout, trie, beam_size=10, constrained=True)
    assert (cons.items >= 0).all()


def test_trie_transitions():
    codes = np.array([[0, 1, 0], [0, 1, 1], [2, 0, 0]])
    trie = SIDTrie(codes, [3, 2, 2])
    root = trie.step(0, torch.tensor([0]))
    assert (root[0] >= 0).tolist() == [True, False, True]
    n1 = trie.step(1, root[0, [0]])
    assert (n1[0] >= 0).tolist() == [False, True]
    leaf = trie.step(2, n1[0, [1]])
    assert leaf[0].tolist() == [0, 1]                                   # item indices at the last digit
    assert trie.step(1, torch.tensor([-1])).tolist() == [[-1, -1]]


def test_metrics():
    top = np.array([[3, 1, 2], [5, 6, 7], [9, 8, 4]])
    m = ranking_metrics(top, np.array([1, 0, 4]), ks=(1, 3))
    assert m["recall@1"] == 0 and m["recall@3"] == pytest.approx(2 / 3)
    assert m["ndcg@3"] == pytest.approx((1 / np.log2(3) + 1 / np.log2(4)) / 3)


def test_padding_to_full_history_changes_nothing_but_cost():
    codes, layout, model, batcher, hist = setup("encdec")
    naive = SIDBatcher(batcher.item_tokens, layout, "encdec", pad_to_full=True)
    short = hist[[0, 2]]
    a, am = batcher.history_tokens(short, np.arange(2))
    b, bm = naive.history_tokens(short, np.arange(2))
    assert a.shape[1] < b.shape[1]
    trie = SIDTrie(codes, WIDTHS)
    ra = beam_search(model, "encdec", a, am, layout, trie, 5, True)
    rb = beam_search(model, "encdec", b, bm, layout, trie, 5, True)
    assert ra.items.tolist() == rb.items.tolist()


@pytest.mark.parametrize("arch", ["encdec", "decoder"])
def test_level_loss_is_the_beam_search_digit_score(arch):
    """model.loss=level: the training loss is minus the per-digit log-probability the beam search sums
    (a softmax over each digit's own block), so it can only be lower than the whole-vocabulary loss."""
    from types import SimpleNamespace

    codes, layout, vocab_model, batcher, hist = setup(arch)
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch=arch, preset="tiny", dropout=0.0, loss="level"), layout).eval()
    model.load_state_dict(vocab_model.state_dict())
    ex = SimpleNamespace(history=hist, user=np.arange(3), target=np.array([4, 0, 8]))
    batch = batcher.train_batch(ex, np.arange(3))
    with torch.no_grad():
        level, vocab = model(**batch).loss, vocab_model(**batch).loss
    expect = 0.0
    for u in range(3):
        ids, mask = batcher.history_tokens(hist[u:u + 1], np.array([u]))
        expect -= exact_logprob(model, arch, layout, ids, mask, batcher.item_tokens[ex.target[u]])
    assert float(level) == pytest.approx(expect / (3 * batcher.item_tokens.shape[1]), rel=1e-5)
    assert float(level) < float(vocab)
    model.train()
    loss = model(**batch).loss
    loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)

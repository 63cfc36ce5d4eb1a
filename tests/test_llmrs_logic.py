"""LLM-as-RS logic on tiny randomly initialised causal LMs (no download): title trie, beam search
against brute force, title -> item mapping, prompt budget, probes."""
import itertools

import numpy as np
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from scaling.data.dataset import Dataset
from scaling.data.split import Examples
from scaling.errors import DataError
from scaling.llmrs.beam import title_beam_search, top_per_group
from scaling.llmrs.title_items import TitleItems
from scaling.llmrs.probes import item_names, shuffle_histories
from scaling.llmrs.prompts import Prompts
from scaling.llmrs.trie import TitleTrie

EOS, PAD, V = 1, 0, 9
# Six items, five distinct titles (items 4 and 5 share one), lengths 1-3 tokens + eos.
TITLES = [[2, 3, EOS], [2, 4, EOS], [2, 4, 5, EOS], [6, EOS], [7, 3, 8, EOS], [7, 3, 8, EOS]]


def tiny_model(seed=0):
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=V, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64,
                      pad_token_id=PAD, eos_token_id=EOS)
    return LlamaForCausalLM(cfg).eval()


def prompts_batch():
    rows = [[5, 6, 2, 3], [2], [8, 8, 4]]          # three users' prompts of different lengths, left-padded
    width = max(map(len, rows))
    ids = torch.tensor([[PAD] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    return rows, ids, mask


def exact_logprob(model, prompt, seq):
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([prompt + seq[:-1]])).logits[0, len(prompt) - 1:]
    return float(logits.log_softmax(-1).gather(1, torch.tensor(seq)[:, None]).sum())


def test_trie_children_lookup_and_shared_titles():
    trie = TitleTrie([np.array(t) for t in TITLES], V)
    assert trie.n_titles == 5 and trie.item_title[4] == trie.item_title[5]
    row, tok, child = trie.children(torch.tensor([0, -1]))
    assert sorted(tok.tolist()) == [2, 6, 7] and (row == 0).all()          # root's first tokens; -1 has none
    n2 = trie.lookup(torch.tensor([0]), torch.tensor([2]))
    assert trie.lookup(n2, torch.tensor([5])).item() == -1                  # "2 5" is no title prefix
    n24 = trie.lookup(n2, torch.tensor([4]))
    end = trie.lookup(n24, torch.tensor([EOS]))
    assert trie.title_of(end).item() == trie.item_title[1]
    assert trie.max_len == 4


def test_constrained_beam_is_exact_when_wide():
    model = tiny_model()
    trie = TitleTrie([np.array(t) for t in TITLES], V)
    rows, ids, mask = prompts_batch()
    res = title_beam_search(model, ids, mask, trie, EOS, beam_size=8, constrained=True)
    unique = {trie.item_title[i]: t for i, t in enumerate(TITLES)}
    for u, prompt in enumerate(rows):
        titles = res.titles[u][res.scores[u] > -np.inf].tolist()
        assert sorted(titles) == sorted(unique)                            # every title once
        exact = [exact_logprob(model, prompt, unique[t]) for t in titles]
        np.testing.assert_allclose(res.scores[u][: len(titles)].numpy(), exact, rtol=1e-4, atol=1e-4)
        assert all(a >= b - 1e-6 for a, b in zip(exact, exact[1:]))       # best first


def test_batched_equals_one_user_at_a_time():
    model = tiny_model(1)
    trie = TitleTrie([np.array(t) for t in TITLES], V)
    rows, ids, mask = prompts_batch()
    both = title_beam_search(model, ids, mask, trie, EOS, beam_size=3, constrained=True)
    for u, prompt in enumerate(rows):
        one = title_beam_search(model, torch.tensor([prompt]), torch.ones(1, len(prompt), dtype=torch.long), trie,
                                EOS, beam_size=3, constrained=True)
        assert one.titles[0].tolist() == both.titles[u].tolist()
        np.testing.assert_allclose(one.scores[0].numpy(), both.scores[u].numpy(), rtol=1e-4, atol=1e-5)


def test_free_beam_exhaustive_agrees_with_constrained():
    """With a beam wider than every sequence of up to 4 tokens, free search finds every title the
    constrained search finds, with the same score, and marks non-titles invalid (-1)."""
    model = tiny_model(2)
    trie = TitleTrie([np.array(t) for t in TITLES], V)
    rows, ids, mask = prompts_batch()
    free = title_beam_search(model, ids, mask, trie, EOS, beam_size=V ** 4, constrained=False)
    cons = title_beam_search(model, ids, mask, trie, EOS, beam_size=8, constrained=True)
    for u in range(len(rows)):
        found = dict(zip(free.titles[u].tolist(), free.scores[u].tolist()))
        assert (free.titles[u] == -1).any()                                 # most sequences are no title
        for t, s in zip(cons.titles[u].tolist(), cons.scores[u].tolist()):
            if t >= 0:
                assert found[t] == pytest.approx(s, abs=1e-4)


def test_top_per_group_orders_within_groups():
    g = torch.tensor([1, 0, 1, 1, 0])
    s = torch.tensor([0.1, 0.5, 0.9, 0.3, -1.0])
    idx, grp, rank = top_per_group(g, s, 2, 3)
    assert idx.tolist() == [1, 4, 2, 3] and grp.tolist() == [0, 0, 1, 1] and rank.tolist() == [0, 1, 0, 1]


def test_shared_titles_expand_to_items_by_popularity():
    item_title = np.array([0, 1, 1, 2, 1])
    ti = TitleItems(item_title, popularity=np.array([5, 1, 9, 3, 4]))
    out = ti.expand(np.array([[1, 0, 2], [-1, 2, 0]]), 3)
    assert out.tolist() == [[2, 4, 1], [-1, 3, 0]]


def fake_prompts(budget):
    lines = [np.arange(n) for n in (3, 4, 5, 6)]                         # item i's line has 3+i tokens
    return Prompts(head=[1, 1], tail=[2], lines=lines, names=[x[:2] for x in lines], eos=9, pad=0, budget=budget)


def test_prompt_budget_drops_oldest_and_counts():
    p = fake_prompts(budget=3 + 12)                                       # template 3 + 12 tokens of lines
    ex = Examples(np.array([[-1, 0, 1, 2], [3, 2, 1, 0], [-1, -1, -1, 3]]), np.array([3, 0, 1]), np.arange(3))
    cut, dropped = p.fit(ex)
    assert cut.history.tolist() == [[-1, 0, 1, 2], [-1, 2, 1, 0], [-1, -1, -1, 3]]   # 12 tokens fit, 18 do not
    assert dropped.tolist() == [0, 1, 0]
    assert len(p.prompt(cut.history[1])) <= p.budget
    assert p.target(1) == [0, 1, 9]


def tiny_dataset(titles):
    items = [{"title": t, "categories": [["Beauty", "Skin Care"]]} for t in titles]
    return Dataset("tiny", ["u"], [np.array([0, 1])], [f"B{i}" for i in range(len(titles))], items)


def test_item_names_fallback_and_id_only():
    names, missing = item_names(tiny_dataset(["Rose &amp; Oud Soap", None, "Lip  Balm"]), "none", 0)
    assert names == ["Rose & Oud Soap", "Skin Care", "Lip Balm"] and missing == 1
    codes, _ = item_names(tiny_dataset(["Rose Soap", "Lip Balm", "Mask"]), "id_only", 0)
    assert len(set(codes)) == 3 and not any("Soap" in c or "Balm" in c for c in codes)
    with pytest.raises(DataError, match="no item has a title.*llm.probe=id_only"):
        item_names(tiny_dataset([None, None]), "none", 0)


def test_shuffled_histories_keep_items_and_padding():
    h = np.array([[-1, -1, 3, 4, 5], [1, 2, 3, 4, 5]])
    out = shuffle_histories(Examples(h, np.zeros(2, int), np.arange(2)), seed=0).history
    assert (out[0, :2] == -1).all()
    for a, b in zip(out, h):
        assert sorted(a.tolist()) == sorted(b.tolist())
    assert any(not np.array_equal(a, b) for a, b in zip(out, h))
    assert list(itertools.chain(*out.tolist())) != list(itertools.chain(*h.tolist()))


def test_training_loss_is_on_target_tokens_only():
    """The batch's loss (head on the last target_len + 1 positions only) equals cross-entropy computed
    by hand over each row's target title + eos, teacher-forced after its own prompt."""
    from scaling.llmrs.batching import LLMBatcher

    model = tiny_model(3)
    p = Prompts(head=[5], tail=[6], lines=[np.array([2, 3]), np.array([4]), np.array([7, 8, 2])],
                names=[np.array([3]), np.array([4, 4]), np.array([8, 2, 3])], eos=EOS, pad=PAD, budget=20)
    ex = Examples(np.array([[-1, 0, 1], [2, 1, 0]]), np.array([2, 1]), np.arange(2))
    b = LLMBatcher(p).train_batch(ex, np.arange(2))
    assert b["input_ids"].is_contiguous() and b["labels"].shape[1] == len(b["logits_to_keep"])
    got = float(model(**b).loss)
    nll, n = 0.0, 0
    for i in range(2):
        prompt, target = p.prompt(ex.history[i]), p.target(int(ex.target[i]))
        logits = model(input_ids=torch.tensor([prompt + target])).logits[0, len(prompt) - 1:-1]
        nll += float(torch.nn.functional.cross_entropy(logits, torch.tensor(target), reduction="sum"))
        n += len(target)
    assert got == pytest.approx(nll / n, rel=1e-4)


class _Collective(torch.nn.Module):
    """A model whose every forward is a collective, as under DeepSpeed ZeRO-3 (each forward gathers parameter
    shards from every rank): ranks making different numbers of forward calls fail or hang."""

    def __init__(self, model):
        super().__init__()
        self.model, self.calls = model, 0

    def forward(self, **kw):
        import torch.distributed as torch_dist

        self.calls += 1
        torch_dist.broadcast(torch.zeros(3), src=0)   # a different shape from lockstep's all-reduce
        return self.model(**kw)


def _rank_decodes(rank: int, init: str, prompts: list, out_dir: str):
    import datetime

    import torch.distributed as torch_dist

    from scaling.decode import lockstep

    torch_dist.init_process_group("gloo", init_method=init, rank=rank, world_size=2,
                                  timeout=datetime.timedelta(seconds=60))
    model = _Collective(tiny_model(0))
    trie = TitleTrie([np.array(t) for t in TITLES], V)
    ids = torch.tensor([prompts[rank]])
    res = title_beam_search(model, ids, torch.ones_like(ids), trie, EOS, beam_size=1, constrained=True,
                            sync=lockstep(torch.device("cpu")))
    torch.save({"titles": res.titles, "calls": model.calls}, f"{out_dir}/{rank}.pt")
    torch_dist.destroy_process_group()


def test_title_beam_search_keeps_ranks_in_step(tmp_path):
    """Two ranks whose prompts end their titles at different steps (measured here: prompt [2, 4] stops after
    2 forward calls, [2, 2] after 4, with beam 1 on tiny_model(0)): with `lockstep`, the rank done first makes
    dummy forwards, so both make the same calls, and each rank's titles equal a lone process's."""
    import torch.multiprocessing as mp

    prompts = [[2, 4], [2, 2]]
    trie = TitleTrie([np.array(t) for t in TITLES], V)
    alone = [title_beam_search(tiny_model(0), torch.tensor([p]), torch.ones(1, 2, dtype=torch.long), trie, EOS,
                               beam_size=1, constrained=True).titles for p in prompts]
    mp.spawn(_rank_decodes, args=(f"file://{tmp_path}/pg", prompts, str(tmp_path)), nprocs=2)
    got = [torch.load(tmp_path / f"{r}.pt") for r in range(2)]
    assert got[0]["calls"] == got[1]["calls"] == 4
    for r in range(2):
        assert got[r]["titles"].tolist() == alone[r].tolist()


def test_a_step_capped_run_and_its_trained_out_twin_have_different_labels():
    from scaling.paradigms import label

    row = {"paradigm": "llmrs", "llm.name": "smollm2", "llm.finetune": "lora", "llm.lora_r": 128, "llm.probe": "none",
           "llm.item_repr": "title"}
    assert label({**row, "train.max_steps": 600}) == "smollm2 lora r=128 probe=none <=600 steps"
    assert label({**row, "train.max_steps": 0}) == label(row) == "smollm2 lora r=128 probe=none"
    assert label({**row, "train.max_steps": 600}) != label({**row, "train.max_steps": 3000})

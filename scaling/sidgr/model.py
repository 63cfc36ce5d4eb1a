"""SID-GR recommenders built from `transformers` configs, and the SID token layout.

Token layout: 0 pad, 1 eos, 2 bos (decoder-only separator); then `n_user_buckets` user tokens; then
one block of tokens per SID digit position (digit d of value v is token `offset[d] + v`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM, T5Config, T5ForConditionalGeneration

from scaling.config import ModelConfig
from scaling.sidgr.presets import DECODER, ENCDEC

PAD, EOS, BOS, N_SPECIAL = 0, 1, 2, 3


@dataclass
class TokenLayout:
    widths: list[int]
    n_user_buckets: int

    @property
    def offsets(self) -> list[int]:
        base = N_SPECIAL + self.n_user_buckets
        out = []
        for w in self.widths:
            out.append(base)
            base += w
        return out

    @property
    def vocab_size(self) -> int:
        return N_SPECIAL + self.n_user_buckets + sum(self.widths)

    def item_tokens(self, codes: torch.Tensor) -> torch.Tensor:
        """(n_items, L') SID digits -> token ids."""
        return codes + torch.tensor(self.offsets, dtype=codes.dtype)

    def user_token(self, users: torch.Tensor) -> torch.Tensor:
        # Hashed buckets (a fixed multiplicative hash, so bucket = f(user id) on any machine).
        return N_SPECIAL + (users * 2654435761 % (2 ** 32)) % self.n_user_buckets

    def level_of_token(self) -> torch.Tensor:
        """(vocab,) the SID digit position each token belongs to; -1 for special and user tokens."""
        level = torch.full((self.vocab_size,), -1, dtype=torch.long)
        for d, (off, w) in enumerate(zip(self.offsets, self.widths)):
            level[off:off + w] = d
        return level


class _LevelLoss:
    """`model.loss=level`: each target token's cross-entropy is a softmax over the tokens of its own digit
    position only (GRID's per-hierarchy output heads; the beam search scores digits the same way), instead of
    over the whole vocabulary. The logits are the model's own; only the loss changes. Mixed into the HF class
    (rather than computed in the training loop) so `model(**batch).loss` stays the one training interface."""

    def forward(self, *args, labels=None, **kwargs):
        if labels is None:
            return super().forward(*args, **kwargs)
        if self.config.is_encoder_decoder:
            kwargs.setdefault("decoder_input_ids", self._shift_right(labels))
        out = super().forward(*args, **kwargs)
        logits, target = out.logits, labels
        if not self.config.is_encoder_decoder:          # causal LM: position t predicts token t + 1
            logits, target = logits[:, :-1], labels[:, 1:]
        keep = target != -100
        logits, target = logits[keep].float(), target[keep]
        level = self.level_of_token
        out.loss = F.cross_entropy(logits.masked_fill(level[target][:, None] != level[None, :], float("-inf")),
                                   target)
        return out


class LevelLossT5(_LevelLoss, T5ForConditionalGeneration):
    pass


class LevelLossLlama(_LevelLoss, LlamaForCausalLM):
    pass


def build_model(cfg: ModelConfig, layout: TokenLayout) -> torch.nn.Module:
    level = cfg.loss == "level"
    if cfg.arch == "encdec":
        p = ENCDEC[cfg.preset]
        conf = T5Config(vocab_size=layout.vocab_size, d_model=p.d_model, d_kv=p.d_kv, d_ff=p.d_ff, num_layers=p.layers,
                        num_decoder_layers=p.layers, num_heads=p.heads, dropout_rate=cfg.dropout,
                        feed_forward_proj="relu", pad_token_id=PAD, eos_token_id=EOS,
                        decoder_start_token_id=PAD, tie_word_embeddings=True)
        model = (LevelLossT5 if level else T5ForConditionalGeneration)(conf)
    else:
        q = DECODER[cfg.preset]
        conf = LlamaConfig(vocab_size=layout.vocab_size, hidden_size=q.d_model, intermediate_size=q.d_ff,
                           num_hidden_layers=q.layers, num_attention_heads=q.heads, num_key_value_heads=q.heads,
                           max_position_embeddings=1024, attention_dropout=cfg.dropout, pad_token_id=PAD,
                           bos_token_id=BOS, eos_token_id=EOS, tie_word_embeddings=True)
        model = (LevelLossLlama if level else LlamaForCausalLM)(conf)
    if level:
        model.register_buffer("level_of_token", layout.level_of_token(), persistent=False)
    return model

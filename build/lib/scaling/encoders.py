"""Item text -> embeddings with a frozen pretrained encoder, mean-pooled over the last hidden state
(as GRID), batched, cached on disk by a content hash of (texts, model, pooling, max length)."""
from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from scaling.cache import ArtifactCache
from scaling.config import EncoderConfig
from scaling.errors import DataError
from scaling.offline_models import ModelSource, not_found, resolve


def load_encoder(src: ModelSource, name: str):
    from transformers import AutoModel, AutoTokenizer

    kw = {"gguf_file": src.gguf_file} if src.gguf_file else {}
    try:
        tok = AutoTokenizer.from_pretrained(src.path, **kw)
        model = AutoModel.from_pretrained(src.path, **kw)
    except OSError as e:
        raise not_found(name, e) from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if getattr(model.config, "is_encoder_decoder", False):   # e.g. Flan-T5 (GRID): embed with its encoder
        model = model.get_encoder()
    return tok, model.eval()


def count_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.inference_mode()
def _embed(texts: list[str], tok, model, cfg: EncoderConfig, desc: str, device: str = "cpu",
           progress: bool = True) -> np.ndarray:
    """On a GPU, batches of 8x encoder.batch_size (texts are <= max_length tokens: memory is no concern,
    and small batches leave the GPU idle); the batch size does not change the embeddings' cache key."""
    model = model.to(device)
    batch = cfg.batch_size * (8 if torch.device(device).type == "cuda" else 1)
    # Longest first, so each batch pads only to its own longest text and the ETA is pessimistic early.
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    dim = getattr(model.config, "hidden_size", None) or model.config.d_model
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for s in tqdm(range(0, len(texts), batch), desc=desc, unit="batch", disable=not progress):
        idx = order[s:s + batch]
        enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=cfg.max_length,
                  return_tensors="pt").to(device)
        hidden = model(**enc).last_hidden_state
        if cfg.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            m = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
        out[idx] = pooled.float().cpu().numpy()
    return out


def embed_items(texts: list[str], cfg: EncoderConfig, cache: ArtifactCache, dataset_name: str, device: str = "cpu",
                progress: bool = True) -> tuple[np.ndarray, int, bool]:
    """Embeddings (n_items, dim), the encoder's parameter count (N_LLM) and whether the cache hit."""
    if not any(texts):
        raise DataError(f"dataset {dataset_name}: no item has text (title/categories/description/price); "
                        "a text encoder cannot embed it - use a dataset with item text")
    src = resolve(cfg.name, cache.root)
    key = {"texts": texts, "model": src.identity, "pooling": cfg.pooling, "max_length": cfg.max_length}

    def compute():
        tok, model = load_encoder(src, cfg.name)
        emb = _embed(texts, tok, model, cfg, f"embed {cfg.name}", device, progress)
        return {"emb": emb, "n_params": np.array(count_params(model))}

    arrays, hit = cache.get_or_compute("embeddings", key, compute)
    return arrays["emb"], int(arrays["n_params"]), hit

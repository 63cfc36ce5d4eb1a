"""A finished run's trained model, ready to recommend, for notebooks: `scaling.load_model(RUN)`.

The run's bundle is rebuilt from its record's config (data split, SIDs or prompts, decoder: the cached artifacts
make this quick) and its kept weights loaded: a LoRA run's through PEFT from its adapter directory
(`RUN/ckpt/best`, which `PeftModel.from_pretrained` reads), any other run's from `RUN/ckpt/best.pt`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from scaling.errors import GRError


@dataclass
class TrainedModel:
    config: object          # the run's RunConfig
    model: object           # the torch module (a PeftModel for LoRA runs)
    decoder: object         # scaling.decode.Decoder over `model`
    split: object           # the run's data split (train / valid / test examples)

    def recommend(self, which: str = "test", users: int = 0) -> dict:
        """Top-`eval.beam_size` items for the first `users` (0 = all) evaluation users of `which` (valid | test),
        with each target's rank (0 = first; beam_size = not recommended), as the run's outcomes record them."""
        from scaling.decode import recommend
        from scaling.evaluation import eval_sets
        from scaling.metrics import rank_of_target

        ex = eval_sets(self.split, users or self.config.eval.test_users)[which]
        top = recommend(self.decoder, ex).top
        return {"user": ex.user, "top": top, "rank": rank_of_target(top, ex.target)}


def load_model(run: str | Path, cache_dir: str | Path | None = None, data_dir: str | Path | None = None,
               device: str = "cpu") -> TrainedModel:
    import torch

    from scaling.cache import ArtifactCache
    from scaling.config import from_record
    from scaling.paradigms import get
    from scaling.train import load_trainable_state

    run = Path(run)
    best, adapter = run / "ckpt" / "best.pt", run / "ckpt" / "best"
    if not best.is_file():
        raise GRError(f"{run}: no kept weights (ckpt/best.pt); a run keeps them once it has validated")
    cfg = from_record(run)
    lora = cfg.paradigm == "llmrs" and cfg.llm.finetune == "lora"
    build_cfg = replace(cfg, llm=replace(cfg.llm, finetune="full")) if lora else cfg   # lora: the bare base model
    b = get(cfg.paradigm).build(build_cfg, ArtifactCache(cache_dir), str(data_dir) if data_dir else None,
                                log=lambda *_: None, device=device, progress=False)
    if lora:
        from peft import PeftModel

        if not (adapter / "adapter_config.json").is_file():
            raise GRError(f"{run}: no adapter directory ckpt/best (runs before it existed keep ckpt/best.pt only)")
        model = PeftModel.from_pretrained(b.model, str(adapter))
    else:
        model = b.model
        load_trainable_state(model, torch.load(best, weights_only=True, map_location="cpu"))
    model.to(device).eval()
    return TrainedModel(cfg, model, replace(b.decoder, model=model), b.split)


__all__ = ["TrainedModel", "load_model"]

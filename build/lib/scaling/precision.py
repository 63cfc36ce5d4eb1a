"""Precision that fits the machine: `auto` for `train.autocast` and `llm.dtype`, bf16 only where it is native.

A CPU without AVX512-BF16 / AMX (most laptops, AVX2-only servers, many login nodes) emulates bf16: a matmul runs
~90x and a model forward 4-6x slower than fp32 there, so a pinned bf16 turns a 24-minute quickstart into hours.
`auto` resolves when a config is loaded (`scaling.config.from_dict`), before the run id is computed: the resolved
value is what the record shows and what the run is (precision changes numerics), so one grid gives fp32 runs on an
AVX2 laptop and bf16 runs on a bf16 machine, each under its own id.

The decision is a capability check, never a timing, so a machine always resolves the same way and a resubmitted
sweep finds its runs: CUDA asks `torch.cuda.is_bf16_supported()`; a CPU needs oneDNN's bf16 check
(`torch.ops.mkldnn._is_mkldnn_bf16_supported`) and, on Linux/x86, a bf16 instruction set in /proc/cpuinfo
(avx512_bf16, amx_bf16 or avx_ne_convert: oneDNN's check also passes on plain AVX512 cores, where bf16 is
converted, not computed). `$GR_SCALING_BF16=native|emulated` overrides the check (tests; a node you know better).
The short matmul probe (`matmul_ratio`) only measures, for warnings and benchmarks.
"""
from __future__ import annotations

import functools
import os
import platform
import time
from dataclasses import dataclass, replace

ENV = "GR_SCALING_BF16"
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "avx_ne_convert")


@dataclass(frozen=True)
class Capability:
    native: bool
    device: str        # cpu | cuda
    why: str           # one phrase: what decided it

    def describe(self) -> str:
        return f"bf16 {'native' if self.native else 'emulated'} on {self.device} ({self.why})"


def _cpu_flags() -> set[str] | None:
    """The CPU's feature flags from /proc/cpuinfo (Linux), None where there is no such file."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        return None
    return set()


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=None)
def capability(device: str = "auto") -> Capability:
    """Whether `device` (auto | cpu | cuda, as train.device) computes bf16 natively. Cached per process."""
    import torch

    dev = "cuda" if device != "cpu" and torch.cuda.is_available() else "cpu"
    forced = os.environ.get(ENV, "").strip().lower()
    if forced:
        if forced not in ("native", "emulated"):
            from scaling.errors import ConfigError
            raise ConfigError(f"${ENV}={forced!r}; set it to native or emulated, or unset it to check the device")
        return Capability(forced == "native", dev, f"${ENV}={forced}")
    if dev == "cuda":
        ok = torch.cuda.is_bf16_supported()
        return Capability(ok, dev, f"{torch.cuda.get_device_name()}: torch.cuda.is_bf16_supported() is {ok}")
    if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return Capability(False, dev, "oneDNN finds no bf16 support on this CPU")
    flags = _cpu_flags()
    if flags is not None and platform.machine() in ("x86_64", "AMD64"):
        have = [f for f in BF16_FLAGS if f in flags]
        if not have:
            return Capability(False, dev, f"no {'/'.join(BF16_FLAGS)} among the CPU's flags")
        return Capability(True, dev, f"CPU has {', '.join(have)}")
    return Capability(True, dev, "oneDNN reports bf16 support")


@functools.lru_cache(maxsize=None)
def matmul_ratio(n: int = 256, seconds: float = 0.15) -> tuple[float, float]:
    """(fp32 GFLOP/s, bf16 GFLOP/s) of an n x n CPU matmul on one thread-pool, measured once per process."""
    import torch

    rates = []
    for dt in (torch.float32, torch.bfloat16):
        a, b = torch.randn(n, n, dtype=dt), torch.randn(n, n, dtype=dt)
        a @ b
        reps, t = 0, time.perf_counter()
        while True:
            a @ b
            reps += 1
            el = time.perf_counter() - t
            if el >= seconds:
                break
        rates.append(2 * n ** 3 * reps / el / 1e9)
    return rates[0], rates[1]


def resolve(cfg, native: bool):
    """`cfg` (a RunConfig) with every `auto` precision made concrete. train.autocast: bfloat16 where native, else
    none (and none under DeepSpeed, whose JSON sets its own bf16). llm.dtype: bfloat16 where native for LoRA (a
    frozen base; peft keeps adapters fp32), float32 for full fine-tuning (bf16 Adam updates round away; autocast
    gives it mixed precision) and wherever bf16 is emulated."""
    train, llm = cfg.train, cfg.llm
    if train.autocast == "auto":
        train = replace(train, autocast="bfloat16" if native and train.backend != "deepspeed" else "none")
    if llm.dtype == "auto":
        llm = replace(llm, dtype="bfloat16" if native and llm.finetune == "lora" else "float32")
    return replace(cfg, train=train, llm=llm)


def needs_resolving(cfg) -> bool:
    return cfg.train.autocast == "auto" or cfg.llm.dtype == "auto"


def asks_bf16(cfg) -> list[str]:
    """The keys of `cfg` that compute in bf16 (those its paradigm reads)."""
    keys = ["train.autocast=bfloat16"] if cfg.train.autocast == "bfloat16" else []
    if cfg.paradigm == "llmrs" and cfg.llm.dtype == "bfloat16":
        keys.append("llm.dtype=bfloat16")
    return keys


def emulated_warning(cfg, device: str) -> str | None:
    """One line when `cfg` asks for bf16 on a device that emulates it (with the measured matmul ratio), else None."""
    keys = asks_bf16(cfg)
    cap = capability(device)
    if cap.native or not keys or cap.device != "cpu":
        return None
    fp32, bf16 = matmul_ratio()
    return (f"warning: {' '.join(keys)} on a CPU that emulates bf16 ({cap.why}): a 256x256 matmul runs at "
            f"{bf16 / fp32:.3f}x its fp32 rate here ({bf16:.1f} vs {fp32:.1f} GFLOP/s); set it to auto for fp32 here")


_WARNED: set[str] = set()   # the one piece of process state here: each warning is printed once per process


def warn_emulated(cfg, device: str, log=print) -> None:
    msg = emulated_warning(cfg, device)
    if msg and msg not in _WARNED:
        _WARNED.add(msg)
        log(msg)

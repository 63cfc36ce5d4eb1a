"""One rank of a 2-rank DeepSpeed ZeRO-3 training (run by torchrun from test_zero3.py): the global-batch fit of
test_global_batch, with every `deepspeed.zero.GatheredParameters` instrumented to record the most parameter
elements this rank holds gathered at once. Writes OUT/rank<r>.json and, on rank 0, the kept weights' file."""
import json
import sys
from dataclasses import replace
from pathlib import Path

import deepspeed
import torch

from test_global_batch import CFG, _fit
from scaling.distributed import init_from_env, shutdown

deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False   # no JIT build on CPU (../shared/INFRA.md)
Original = deepspeed.zero.GatheredParameters
held = {"now": 0, "peak": 0}


class Recording(Original):
    def __init__(self, params, *args, **kwargs):
        params = list(params) if not torch.is_tensor(params) else [params]
        self.n = sum(int(getattr(p, "ds_numel", p.numel())) for p in params)
        super().__init__(params, *args, **kwargs)

    def __enter__(self):
        held["now"] += self.n
        held["peak"] = max(held["peak"], held["now"])
        return super().__enter__()

    def __exit__(self, *exc):
        held["now"] -= self.n
        return super().__exit__(*exc)


deepspeed.zero.GatheredParameters = Recording
out = Path(sys.argv[1])
dist = init_from_env()
cfg = replace(CFG, backend="deepspeed", deepspeed_config="slurm/deepspeed/zero3.json", eval_every=3)
r = _fit(cfg, out / "ckpt", dist)
json.dump({"peak_gathered": held["peak"], "step": r["step"], "examples": r["examples"]},
          open(out / f"rank{dist.rank}.json", "w"))
shutdown()

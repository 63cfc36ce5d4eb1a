"""Training curves beside the record: TensorBoard event files in `<run>/tb/` (`tensorboard --logdir RUNS` shows a
whole sweep, one run per directory named by its id), and the columnar `curves.json` the record keeps (written by
scaling.run). Scalars: train/loss (mean since the last log), train/lr, train/examples_per_s, train/tokens_per_s, and
valid/<metric> at every validation; the config's values as hyperparameters.

TensorBoard's own writer (torch.utils.tensorboard) is used rather than hand-written event files; a resumed run opens
it with `purge_step` at its checkpoint, so TensorBoard drops what the killed process logged past it and the curve
has each step once. Where the tensorboard package is missing, the run says so once and keeps curves.json only."""
from __future__ import annotations

from pathlib import Path


class TensorBoardCurves:
    def __init__(self, log_dir: Path, hparams: dict | None = None, log=print):
        self.log_dir, self.hparams, self.log, self.writer = Path(log_dir), hparams or {}, log, None

    def open(self, purge_from: int) -> None:
        """`purge_from`: the first step a resumed run will log again (0 for a fresh run)."""
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:   # tensorboard not installed (e.g. the bare device-check machine)
            self.log("tensorboard is not installed: training curves go to curves.json only (pip install tensorboard)")
            return
        self.writer = SummaryWriter(str(self.log_dir), purge_step=purge_from or None)

    def train(self, point: dict) -> None:
        if self.writer is not None:
            for k in ("loss", "lr", "examples_per_s", "tokens_per_s"):
                self.writer.add_scalar(f"train/{k}", point[k], point["step"])
            self.writer.flush()   # on disk at every log (every 50 steps by default): a killed run keeps its curve

    def checkpointed(self, step: int) -> None:
        """Nothing to send: every point is already on disk (flushed at each log; a resume purges past its step)."""

    def valid(self, step: int, examples: int, metrics: dict) -> None:
        if self.writer is not None:
            for k, v in metrics.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    self.writer.add_scalar(f"valid/{k}", v, step)

    def close(self, best: dict | None = None) -> None:
        if self.writer is None:
            return
        if self.hparams:
            scalars = {k: v for k, v in self.hparams.items() if isinstance(v, (int, float, str, bool))}
            self.writer.add_hparams(scalars, best or {}, run_name=".")
        self.writer.close()
        self.writer = None


def columnar(points: list[dict]) -> dict:
    """[{step: 1, loss: ...}, ...] -> {step: [...], loss: [...]}: compact, one list per scalar."""
    keys = list(points[0]) if points else []
    return {k: [p.get(k) for p in points] for k in keys}

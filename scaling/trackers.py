"""An optional experiment-tracker sink beside TensorBoard: MLflow (`train.tracker: mlflow`), off by default; with it
off nothing here is imported. MLflow rather than W&B because its local store needs no network and no service
process, and a test can read it back with MLflow's own client.

- Where: `train.tracker_uri` (any MLflow tracking URI: a server, `sqlite:///...`, `databricks`), default
  `file:<runs dir>/mlruns` (MLflow's local file store: `mlflow ui --backend-store-uri RUNS/mlruns` shows a sweep).
- Which run: the experiment is the grid's name (`train.tracker_group`, which `sweep submit` fills; `gr-scaling` for a
  lone run), the MLflow run is found by the tag `gr_scaling.run_id` = the run's id, so a requeued or resumed run
  continues the same MLflow run.
- Names: MLflow allows no '@' in a metric's name, so `valid/recall@10` is `valid/recall_at_10` there.
- Never fatal: the record is the run's truth; a tracker that fails (a server down, a bad URI) is said once in one line
  and dropped for the rest of the run, which goes on.
- Exactly once: points are buffered and sent when the run writes a checkpoint (and at the end), so what MLflow holds is
  what the checkpoint holds; a run killed after its last checkpoint logs those steps again on resume, once.
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

TAG = "gr_scaling.run_id"


@contextlib.contextmanager
def _store_lock(uri: str):
    """For MLflow's file store: one process at a time finds or creates the sweep's experiment. The file store checks a
    name's uniqueness by listing its folder, not atomically, so two packed runs starting together (`--cpus 2`) could
    each create an experiment of the grid's name and one run landed where the other's reader never looks (seen once
    in tests/test_sweeps.py under load). A server or database store enforces the name itself: no lock there."""
    if not uri.startswith("file:"):
        yield
        return
    import fcntl
    from urllib.parse import urlparse

    root = Path(urlparse(uri).path)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".gr-scaling.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class MLflowCurves:
    def __init__(self, run_id: str, group: str, uri: str, hparams: dict, log=print):
        self.run_id, self.group, self.uri, self.hparams, self.log = run_id, group or "gr-scaling", uri, hparams, log
        self.client = self.mlflow_run = None
        self.buffer: list = []

    def _guard(self, what: str, fn, *args) -> None:
        if self.client is None and what != "open":
            return
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 - the tracker is a copy of the record's curves; never fail the run
            self.log(f"tracker {self.uri}: {what} failed ({type(e).__name__}: "
                     f"{str(e).splitlines()[0][:200] if str(e) else ''}); the rest of this run is not tracked")
            self.client = None

    def open(self, purge_from: int) -> None:
        self._guard("open", self._open)

    def _open(self) -> None:
        if self.uri.startswith("file:"):
            # MLflow 3 refuses its file store unless asked for it explicitly; asked for here, as the local default
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        from mlflow.entities import Param
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        with _store_lock(self.uri):
            self.client = c = MlflowClient(tracking_uri=self.uri)
            exp = c.get_experiment_by_name(self.group)
            if exp is None:
                try:
                    exp_id = c.create_experiment(self.group)
                except MlflowException:   # another run of the sweep (through a server) created it first
                    exp_id = c.get_experiment_by_name(self.group).experiment_id
            else:
                exp_id = exp.experiment_id
        found = c.search_runs([exp_id], filter_string=f"tags.`{TAG}` = '{self.run_id}'", max_results=1)
        if found:
            self.mlflow_run = found[0].info.run_id
            c.update_run(self.mlflow_run, status="RUNNING")
            return
        self.mlflow_run = c.create_run(exp_id, run_name=self.run_id, tags={TAG: self.run_id}).info.run_id
        params = [Param(k, str(v)[:6000]) for k, v in self.hparams.items()]
        for i in range(0, len(params), 100):   # MLflow takes at most 100 params a batch
            c.log_batch(self.mlflow_run, params=params[i:i + 100])

    def _add(self, step: int, scalars: dict) -> None:
        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        self.buffer += [Metric(k.replace("@", "_at_"), float(v), ts, int(step)) for k, v in scalars.items()
                        if isinstance(v, (int, float)) and not isinstance(v, bool)]

    def train(self, point: dict) -> None:
        self._add(point["step"], {f"train/{k}": v for k, v in point.items() if k not in ("step", "examples")})

    def valid(self, step: int, examples: int, metrics: dict) -> None:
        self._add(step, {f"valid/{k}": v for k, v in metrics.items()})

    def checkpointed(self, step: int) -> None:
        """Send what was logged up to `step` (the checkpoint just written)."""
        self._guard("logging", self._send)

    def _send(self) -> None:
        for i in range(0, len(self.buffer), 1000):   # MLflow takes at most 1,000 metrics a batch
            self.client.log_batch(self.mlflow_run, metrics=self.buffer[i:i + 1000])
        self.buffer = []

    def close(self, best: dict | None = None) -> None:
        if best:
            self._add(0, best)
        self._guard("logging", self._send)
        self._guard("closing", lambda: self.client.set_terminated(self.mlflow_run, "FINISHED"))
        self.client = None


class Curves:
    """Every sink a run logs its curves to (TensorBoard always, a tracker when asked), as one."""

    def __init__(self, sinks: list):
        self.sinks = sinks

    def open(self, purge_from: int) -> None:
        for s in self.sinks:
            s.open(purge_from)

    def train(self, point: dict) -> None:
        for s in self.sinks:
            s.train(point)

    def valid(self, step: int, examples: int, metrics: dict) -> None:
        for s in self.sinks:
            s.valid(step, examples, metrics)

    def checkpointed(self, step: int) -> None:
        for s in self.sinks:
            s.checkpointed(step)

    def close(self, best: dict | None = None) -> None:
        for s in self.sinks:
            s.close(best)


def make_curves(train_cfg, run_dir: Path, hparams: dict, log=print) -> Curves:
    """TensorBoard in `<run>/tb`, plus the configured tracker."""
    from scaling.curves import TensorBoardCurves

    sinks = [TensorBoardCurves(run_dir / "tb", hparams, log)]
    if train_cfg.tracker == "mlflow":
        uri = train_cfg.tracker_uri or f"file:{Path(run_dir).resolve().parent / 'mlruns'}"
        sinks.append(MLflowCurves(run_dir.name, train_cfg.tracker_group, uri, hparams, log))
    return Curves(sinks)

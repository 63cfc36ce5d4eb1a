"""Signals that end a job early, held until the training loop's next step boundary.

SLURM ends a job early with SIGTERM (`scontrol requeue`, preemption, `scancel`) and, before its time limit, with
SIGUSR2 (submitit asks for `--signal=USR2@90`; its handler pickles the call, requeues the job and exits). Either may
land mid-step — between a backward and its optimizer step — where no consistent checkpoint exists. While the loop
runs, `HeldSignals` only notes them; at the next step boundary the loop writes `last.pt` at the step it reached
and then passes each signal on to the handler it would have reached (submitit's requeue-and-exit, or the default
action: the process ends). A handler that returns (submitit's SIGTERM "bypass": SLURM would kill the job after its
KillWait anyway) is followed by `Preempted`, which ends the job's runs at once. So a requeued job resumes from the
step it had reached, not from its last validation.
"""
from __future__ import annotations

import os
import signal
import threading

HELD = (signal.SIGTERM, signal.SIGUSR2)


class Preempted(BaseException):
    """The job is ending (a signal, its step saved). A BaseException, as KeyboardInterrupt: the loop over a job's
    runs (sweeps.job.RunJob) stops instead of starting the next run."""


class HeldSignals:
    def __init__(self):
        self.pending: list[int] = []
        self.previous: dict = {}

    def __enter__(self) -> "HeldSignals":
        if threading.current_thread() is threading.main_thread():   # handlers live in the main thread only
            self.previous = {s: signal.signal(s, self._hold) for s in HELD}
        return self

    def _hold(self, signum, frame) -> None:
        self.pending.append(signum)

    def __exit__(self, *exc) -> None:
        for s, h in self.previous.items():
            signal.signal(s, h)
        self.previous = {}

    @property
    def requested(self) -> bool:
        return bool(self.pending)

    def pass_on(self) -> None:
        """Once the step is saved: each held signal to its previous handler (which may requeue and exit)."""
        pending, self.pending = list(dict.fromkeys(self.pending)), []
        for s in pending:
            h = self.previous.get(s, signal.SIG_DFL)
            if callable(h):
                h(s, None)
            elif h == signal.SIG_DFL:
                self.__exit__()
                os.kill(os.getpid(), s)   # the default action (terminate), now that the step is saved
            if h != signal.SIG_IGN:
                raise Preempted(f"{signal.Signals(s).name}: the job is ending; this run resumes from ckpt/last.pt")

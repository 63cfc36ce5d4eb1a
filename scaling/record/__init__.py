"""The run directory, the one contract between scaling (which writes it), sweeps and analysis (which read it):
layout, status, events, JSON files and outcomes, one fsync'd atomic write. Standard library and numpy only, no torch:
`sweep status` and `analysis` read runs without importing a model."""
from scaling.record.atomic import atomic_dir, atomic_save_npz, atomic_torch_save, atomic_write, atomic_write_bytes
from scaling.record.events import log_event, orphaned, running_elsewhere
from scaling.record.files import RECORD_FILES, read_json, write_json, write_outcomes
from scaling.record.layout import ckpt_dir, progress_line, read_progress, run_dir_for
from scaling.record.status import (STATUS_DONE, STATUS_FAILED, STATUS_RUNNING, Status, read_status, read_status_line,
                                   write_status)

__all__ = ["atomic_dir", "atomic_save_npz", "atomic_torch_save", "atomic_write", "atomic_write_bytes", "log_event", "orphaned",
           "running_elsewhere", "RECORD_FILES", "read_json", "write_json", "write_outcomes", "ckpt_dir",
           "progress_line", "read_progress", "run_dir_for", "STATUS_DONE", "STATUS_FAILED", "STATUS_RUNNING",
           "Status", "read_status", "read_status_line", "write_status"]

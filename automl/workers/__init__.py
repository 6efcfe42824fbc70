"""Worker processes: where trials run when one process is not enough, and how a search is launched.

A *slot* is a device (one GPU, or a share of the CPU cores) plus a thread budget (:func:`plan_slots`,
from the GPUs :func:`discover_gpus` finds); the :class:`Supervisor` runs one worker process per slot on a
study, restarts the ones that die or are due for recycling, and stops them all on Ctrl-C, a fatal failure
streak or the deadline; :func:`join` does the same from another machine. :func:`prepare_run`,
:func:`prepare_study` and :func:`run_study` are the one launch path of :class:`automl.AutoMLSearch` and
:class:`automl.Experiment`.

This package sits above the backends: a worker builds the backend its run recorded. Nothing here
imports TensorFlow in the parent process.
"""

from automl.workers._chief import Chief
from automl.workers._discovery import Gpu, discover_gpus
from automl.workers._join import Window, join, list_studies, read_window, record_window
from automl.workers._launch import (
    PreparedRun,
    StudyLaunch,
    check_same_search,
    prepare_run,
    prepare_study,
    run_study,
    writable_folder,
)
from automl.workers._slots import (
    RECYCLE_AFTER,
    DeviceRequest,
    Slot,
    check_backend_fits,
    in_process,
    parse_devices,
    plan_slots,
    short_search,
)
from automl.workers._supervisor import Supervisor

__all__ = [
    "RECYCLE_AFTER",
    "Chief",
    "DeviceRequest",
    "Gpu",
    "PreparedRun",
    "Slot",
    "StudyLaunch",
    "Supervisor",
    "Window",
    "check_backend_fits",
    "check_same_search",
    "discover_gpus",
    "in_process",
    "join",
    "list_studies",
    "parse_devices",
    "plan_slots",
    "prepare_run",
    "prepare_study",
    "read_window",
    "record_window",
    "run_study",
    "short_search",
    "writable_folder",
]

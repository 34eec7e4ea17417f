"""Stopping a local run on Ctrl-C (or a service manager's SIGTERM) at once and cleanly."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn, TextIO

_scratch: Path | None = None  # the running command's temporary folder (see private_scratch)


def running() -> bool:
    """Whether a command is inside `private_scratch` (a run that `exit_now` must stop)."""
    return _scratch is not None


@contextlib.contextmanager
def private_scratch() -> Iterator[Path]:
    """One temporary folder for everything the command's renders write (tempfile's default for the
    process while it runs), so that an interrupted run can remove it at once."""
    from faceless.providers.llm.tokens import pin_cache_dir

    global _scratch
    pin_cache_dir()  # the tokenizer's vocabulary cache outlives the run: it stays in the system's folder
    _scratch = Path(tempfile.mkdtemp(prefix="faceless-run-"))
    tempfile.tempdir = str(_scratch)
    try:
        yield _scratch
    finally:
        tempfile.tempdir = None
        shutil.rmtree(_scratch, ignore_errors=True)
        _scratch = None


def exit_now(code: int, out: TextIO, err: TextIO) -> NoReturn:
    """End the process at once while videos are still being made. A normal exit would finalise the
    interpreter while the state machine's threads are inside native code (OpenCV, espeak-ng): Python
    ends such threads by unwinding them, which C++ frames turn into "terminate called without an
    active exception" and an abort (seen in a full test run on a busy machine); and stopping moto's
    mock under threads still calling it would send their AWS calls to the real endpoints. The ffmpegs
    the run started are killed and its temporary folder removed first."""
    from faceless.media.ffmpeg import stop_ffmpegs

    out.flush()
    err.flush()
    stop_ffmpegs()  # before the folder goes: one still running could write into it again
    if _scratch is not None:
        _remove_while_written(_scratch)
    os._exit(code)


def _remove_while_written(folder: Path, rounds: int = 5) -> None:
    """Remove a folder that threads still running may write into as it goes (a render making its
    folders again with `mkdir(parents=True)`, seen once in a full test run): moved aside first, so what
    they make after goes under the old name, which the next round removes."""
    for round_number in range(rounds):
        aside = folder.with_name(f"{folder.name}-removed-{round_number}")
        with contextlib.suppress(OSError):
            os.replace(folder, aside)
        shutil.rmtree(aside, ignore_errors=True)
        if not folder.exists() and not aside.exists():
            return

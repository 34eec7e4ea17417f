"""Running the one ffmpeg we have: the static binary shipped by imageio-ffmpeg (there is no ffprobe)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import weakref
from functools import lru_cache
from pathlib import Path
from typing import Any

from faceless.errors import RenderError

# Lambda and the dev machine both have 2 vCPUs; more threads than cores only adds contention.
THREADS = max(1, min(2, os.cpu_count() or 1))
QUIET = ("-hide_banner", "-loglevel", "error", "-nostdin", "-y")
_STDERR_TAIL_LINES = 15


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a packaging error
        raise RenderError("imageio-ffmpeg is not installed: no ffmpeg binary") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


# every ffmpeg this process started, so that an interrupted run can end them (interrupt.exit_now)
_STARTED: weakref.WeakSet[subprocess.Popen[bytes]] = weakref.WeakSet()
_STARTED_LOCK = threading.Lock()


def start_ffmpeg(command: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """`subprocess.Popen(command, **options)`, remembered until it is gone."""
    process = subprocess.Popen(command, **options)
    with _STARTED_LOCK:
        _STARTED.add(process)
    return process


def run_tracked(
    command: list[str], *, input: bytes | None = None, timeout: float | None = None, **options: Any
) -> subprocess.CompletedProcess[bytes]:
    """`subprocess.run(command, input=..., timeout=...)` (killed on timeout, as run does) through
    `start_ffmpeg`, so that an interrupted run can end it too."""
    process = start_ffmpeg(command, stdin=subprocess.PIPE if input is not None else None, **options)
    try:
        output, errors = process.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return subprocess.CompletedProcess(command, process.returncode, output, errors)


def stop_ffmpegs() -> None:
    """Kill the ffmpegs this process started that still run, and reap them."""
    with _STARTED_LOCK:
        running = [process for process in _STARTED if process.poll() is None]
    for process in running:
        with contextlib.suppress(OSError):
            process.kill()
    for process in running:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def stderr_tail(stderr: bytes | str, lines: int = _STDERR_TAIL_LINES) -> str:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    return "\n".join(text.strip().splitlines()[-lines:])


def run_ffmpeg(
    args: list[str],
    *,
    what: str,
    cwd: Path | None = None,
    quiet: bool = True,
    stdout: int | None = subprocess.DEVNULL,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg with `args`; on failure raise RenderError naming `what` with the end of its stderr."""
    command = [ffmpeg_exe(), *(QUIET if quiet else ("-hide_banner", "-nostdin")), *args]
    try:
        done = run_tracked(command, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE)
    except OSError as exc:
        raise RenderError(f"{what}: could not start ffmpeg: {exc}") from exc
    if check and done.returncode != 0:
        raise RenderError(f"{what}: ffmpeg exited with {done.returncode}:\n{stderr_tail(done.stderr)}")
    return done

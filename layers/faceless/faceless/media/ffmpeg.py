"""Running the one ffmpeg we have: the static binary shipped by imageio-ffmpeg (there is no ffprobe)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import weakref
from functools import lru_cache
from pathlib import Path
from typing import Any

from faceless.errors import RenderError

# Lambda and the dev machine both have 2 vCPUs; more threads than cores only adds contention.
THREADS = max(1, min(2, os.cpu_count() or 1))
# CPU priorities, as niceness added to the caller's (Linux; elsewhere all run alike). x264 keeps the
# caller's and sets the pace; work with slack yields the cores to it and fills its pauses (x264's frame
# threads wait on each other now and then). Measured on the render bench: 1.23x x264's own time, was 1.26x.
BEHIND_ENCODER = 10  # what feeds the encoder, with a few frames in hand: the frames, the caption states
IN_BACKGROUND = 19  # what is needed only at the end: the sound track, the thumbnail
_NICE_THREADS = sys.platform.startswith("linux")  # where a thread has its own niceness (and passes it on)
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


def lower_thread_priority(niceness: int) -> None:
    """Lower the calling thread's CPU priority by `niceness`; the processes it starts from then on
    inherit it. Only for a thread that ends with its task: an unprivileged thread cannot take it back."""
    if niceness <= 0 or not _NICE_THREADS:
        return
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + niceness))


def _remembered(process: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
    with _STARTED_LOCK:
        _STARTED.add(process)
    return process


def _popen_lowered(command: list[str], niceness: int, options: dict[str, Any]) -> subprocess.Popen[bytes]:
    """Popen from a short-lived thread that lowered its own priority first: the child is born with it
    (setting a running ffmpeg's would miss the threads it has already started). The helper remembers
    the process itself, so that stop_ffmpegs finds it even if the caller is interrupted while waiting."""
    outcome: list[subprocess.Popen[bytes] | BaseException] = []

    def start() -> None:
        lower_thread_priority(niceness)
        try:
            outcome.append(_remembered(subprocess.Popen(command, **options)))
        except BaseException as exc:  # raised on the caller's thread below
            outcome.append(exc)

    helper = threading.Thread(target=start, name="ffmpeg-start")
    helper.start()
    helper.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def start_ffmpeg(command: list[str], niceness: int = 0, **options: Any) -> subprocess.Popen[bytes]:
    """`subprocess.Popen(command, **options)`, remembered until it is gone; `niceness` lower in CPU
    priority than the caller (Linux)."""
    if niceness > 0 and _NICE_THREADS:
        return _popen_lowered(command, niceness, options)
    return _remembered(subprocess.Popen(command, **options))


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

"""One ffmpeg that encodes raw yuv420p frames piped on its stdin (H.264 High, x264 `veryfast`, CRF 21),
burning animated (karaoke) ASS captions with libass in the same pass (static ones arrive composited
on the frames, see overlays.py). Every clip, and the single-process render,
use exactly these settings, so per-segment clips concatenate by stream copy into the same video.

Frames are produced by a worker thread (OpenCV releases the GIL while it warps), at a lower CPU
priority than x264, into a small ring of buffers and handed to the pipe by the caller's thread
(vmsplice on Linux: no copy), so warping, the pipe and x264 overlap.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import queue
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from faceless.errors import RenderError
from faceless.media.ffmpeg import (
    BEHIND_ENCODER,
    THREADS,
    ffmpeg_exe,
    lower_thread_priority,
    start_ffmpeg,
    stderr_tail,
)

X264_PRESET = "veryfast"
X264_CRF = 21
# A keyframe at least this often. x264 also starts one at every cut to a new picture (its scene-cut
# detection), so each segment opens with one; forcing them every 2 s instead made a minute's video 27%
# larger (17.1 MB, not 13.4 MB, measured) for 0.04 dB of PSNR.
KEYFRAME_SECONDS = 10
# MP4 edit lists are written in the movie timescale (1000 by default: a 149-frame clip would claim
# 4.966 s, not 4.9667 s); 48000 counts every frame at 24/25/30/50/60 fps and every audio sample exactly.
MOVIE_TIMESCALE = 48_000
_PIPE_BYTES = 1 << 20  # a bigger pipe: fewer wake-ups per 3 MB frame
_F_SETPIPE_SZ, _F_GETPIPE_SZ = 1031, 1032


class _IoVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


def _vmsplice_function():  # noqa: ANN202
    """libc's vmsplice(2), or None (not Linux, or not found): then frames are written with write(2)."""
    try:
        function = ctypes.CDLL(None, use_errno=True).vmsplice
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.POINTER(_IoVec), ctypes.c_size_t, ctypes.c_uint]
    function.restype = ctypes.c_ssize_t
    return function


_VMSPLICE = _vmsplice_function()
_SPLICE_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM}


def video_codec_args(fps: int, threads: int = THREADS) -> list[str]:
    return [
        "-c:v", "libx264", "-preset", X264_PRESET, "-crf", str(X264_CRF), "-profile:v", "high",
        "-pix_fmt", "yuv420p", "-g", str(KEYFRAME_SECONDS * fps), "-threads", str(threads),
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
        "-movie_timescale", str(MOVIE_TIMESCALE),
    ]  # fmt: skip


def raw_input_args(width: int, height: int, fps: int, source: str = "pipe:0") -> list[str]:
    """Raw yuv420p frames in, tagged BT.709 limited range like the output: an untagged input would make
    ffmpeg insert a colour conversion pass before x264 (measured: +20% CPU)."""
    return [
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-framerate", str(fps),
        "-color_range", "tv", "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
        "-i", source,
    ]  # fmt: skip


def encode_command(
    width: int, height: int, fps: int, target: Path, ass_path: Path | None, fonts_dir: Path | None, threads: int
) -> list[str]:
    raw_input = raw_input_args(width, height, fps)
    filters = []
    if ass_path is not None:
        option = f"ass=filename={filter_path(ass_path)}"
        if fonts_dir is not None:
            option += f":fontsdir={filter_path(fonts_dir)}"
        filters = ["-vf", option]
    return [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *raw_input, *filters,
        "-an", *video_codec_args(fps, threads), str(target),
    ]  # fmt: skip


def filter_path(path: Path) -> str:
    """A path as a filter option value: `\\`, `'` and `:` escaped for the filtergraph parser."""
    text = str(path)
    for char in ("\\", "'", ":", ",", "[", "]", ";"):
        text = text.replace(char, "\\" + char)
    return text


class FrameSink:
    """An open ffmpeg reading frames of `frame_size` bytes from its stdin."""

    def __init__(self, command: list[str], frame_size: int, what: str) -> None:
        self.what = what
        self.frame_size = frame_size
        self.frames_written = 0
        try:
            self.process = start_ffmpeg(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, bufsize=0
            )
        except OSError as exc:
            raise RenderError(f"{what}: could not start ffmpeg: {exc}") from exc
        assert self.process.stdin is not None and self.process.stderr is not None
        capacity = None
        with contextlib.suppress(OSError):  # not Linux, or not allowed: the default pipe works too
            fcntl.fcntl(self.process.stdin.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)
            capacity = fcntl.fcntl(self.process.stdin.fileno(), _F_GETPIPE_SZ)
        # vmsplice hands the frame's pages to the pipe instead of copying them in (write(2) copied ~6 GB
        # for a minute of 1080x1920: ~1.8 s of CPU). The pipe then holds references to the buffer, so
        # the buffer may be refilled only once the reader has taken all of it: see `holds_previous`.
        self._splice = _VMSPLICE if capacity is not None and frame_size > capacity else None
        self._in_pipe: bytearray | None = None
        self._stderr: list[bytes] = []
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)

    @property
    def holds_previous(self) -> bool:
        """Whether the pipe may still reference the previous frame's buffer when `write` returns. A frame
        is larger than the pipe, so once frame N+1 is all in, frame N has all been read: its buffer is
        free again after the next write, not before."""
        return self._splice is not None

    def _vmsplice(self, fd: int, frame: bytearray) -> bool:
        """Splice the whole frame. False if this kernel cannot (a sandbox without vmsplice): nothing was
        sent, and this sink writes with write(2) from now on."""
        assert self._splice is not None
        base = ctypes.addressof((ctypes.c_char * len(frame)).from_buffer(frame))
        done = 0
        while done < len(frame):
            chunk = _IoVec(base + done, len(frame) - done)
            moved = self._splice(fd, ctypes.byref(chunk), 1, 0)
            if moved < 0:
                code = ctypes.get_errno()
                if code == errno.EINTR:
                    continue
                if done == 0 and code in _SPLICE_UNSUPPORTED:
                    self._splice = None
                    return False
                raise OSError(code, os.strerror(code))
            done += moved
        return True

    def write(self, frame: memoryview | bytes | bytearray) -> None:
        assert self.process.stdin is not None
        try:
            fd = self.process.stdin.fileno()
            if self._splice is not None and isinstance(frame, bytearray) and self._vmsplice(fd, frame):
                self._in_pipe = frame  # kept alive (not reused by the allocator) until ffmpeg has read it
            else:
                view = memoryview(frame)
                written = 0
                while written < len(view):
                    written += os.write(fd, view[written:])
        except (BrokenPipeError, OSError) as exc:
            self.process.wait()
            self._drain.join(timeout=5)
            raise RenderError(
                f"{self.what}: ffmpeg stopped reading frames ({exc}):\n{stderr_tail(b''.join(self._stderr))}"
            ) from exc
        self.frames_written += 1

    def close(self) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            self.process.stdin.close()
        code = self.process.wait()
        self._in_pipe = None
        self._drain.join(timeout=5)
        if code != 0:
            raise RenderError(f"{self.what}: ffmpeg exited with {code}:\n{stderr_tail(b''.join(self._stderr))}")

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        self._drain.join(timeout=5)


FrameJob = Callable[[memoryview], None]  # fills one frame buffer


def produce_frames(jobs: Iterator[FrameJob], sink: FrameSink, buffers: int = 8) -> int:
    """Run each job (filling a frame) on a worker thread while this thread writes the previous frames
    to `sink`. Returns the number of frames written. An error in either side stops both.

    The worker runs BEHIND_ENCODER in CPU priority, with `buffers` frames to fill ahead: it works when
    x264 pauses rather than taking the cores from it, and x264 always has the next frames ready."""
    free: queue.Queue[bytearray] = queue.Queue()
    for _ in range(buffers):
        free.put(bytearray(sink.frame_size))
    ready: queue.Queue[bytearray | BaseException | None] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        lower_thread_priority(BEHIND_ENCODER)
        try:
            for job in jobs:
                buffer = free.get()
                if stop.is_set():
                    return
                job(memoryview(buffer))
                ready.put(buffer)
            ready.put(None)
        except BaseException as exc:  # handed to the writer, which raises it
            ready.put(exc)

    worker = threading.Thread(target=work, name="frame-producer", daemon=True)
    worker.start()
    count, held = 0, None
    try:
        while True:
            item = ready.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            sink.write(item)
            count += 1
            if sink.holds_previous:  # the pipe may still read `item`: hand back the frame before it
                item, held = held, item
            if item is not None:
                free.put(item)
    finally:
        stop.set()
        free.put(bytearray(0))  # unblock a producer waiting for a buffer
        worker.join(timeout=30)
    return count

"""Frames reach the encoder intact when the pipe is handed the buffers' pages (vmsplice) instead of
copies: a buffer is refilled only once the reader has taken all of it, even from a slow reader."""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest

from faceless.errors import RenderError
from faceless.media import encoder
from faceless.media.encoder import FrameSink, produce_frames

FRAME = 1080 * 1920 * 3 // 2  # larger than the pipe, as every real frame is
READER = """
import hashlib, sys, time
digest, source = hashlib.sha256(), sys.stdin.buffer
while chunk := source.read(1 << 16):
    digest.update(chunk)
    time.sleep(float(sys.argv[2]))  # a reader slower than the writer: the pipe stays full
open(sys.argv[1], "w").write(digest.hexdigest())
"""


def frames(count: int) -> list[bytes]:
    rng = np.random.default_rng(3)
    return [rng.integers(0, 256, FRAME, dtype=np.uint8).tobytes() for _ in range(count)]


def fill(content: bytes):
    def job(buffer: memoryview) -> None:
        buffer[:] = content

    return job


@pytest.mark.parametrize("delay", [0.0, 0.0003])
def test_every_byte_of_every_frame_arrives_in_order(tmp_path, delay):
    # GIVEN distinct frames and a reader hashing what it receives (fast, then slow)
    expected = frames(40)
    report = tmp_path / "digest.txt"
    sink = FrameSink([sys.executable, "-c", READER, str(report), str(delay)], FRAME, "test reader")
    # WHEN they are produced into the ring of buffers and piped
    written = produce_frames(iter([fill(content) for content in expected]), sink)
    sink.close()
    # THEN the reader got exactly those bytes, in order; on Linux the pages were spliced, not copied
    assert written == len(expected)
    assert report.read_text() == hashlib.sha256(b"".join(expected)).hexdigest()
    if sys.platform.startswith("linux"):
        assert encoder._VMSPLICE is not None and sink.holds_previous


def test_a_reader_that_quits_is_a_render_error(tmp_path):
    # GIVEN a reader that exits at once WHEN frames are piped to it THEN a RenderError names the step
    sink = FrameSink([sys.executable, "-c", "import sys; sys.exit(3)"], FRAME, "encoding the test")
    with pytest.raises(RenderError, match="encoding the test"):
        produce_frames(iter([fill(content) for content in frames(8)]), sink)
    sink.abort()


def test_a_kernel_without_vmsplice_falls_back_to_writing_the_frames(tmp_path, monkeypatch):
    # GIVEN a system whose vmsplice answers EINVAL (as some sandboxes do)
    import ctypes
    import errno

    def unsupported(*_args):
        ctypes.set_errno(errno.EINVAL)
        return -1

    monkeypatch.setattr(encoder, "_VMSPLICE", unsupported)
    expected = frames(6)
    report = tmp_path / "digest.txt"
    sink = FrameSink([sys.executable, "-c", READER, str(report), "0"], FRAME, "test reader")
    # WHEN frames are piped THEN they all arrive, written instead of spliced
    assert produce_frames(iter([fill(content) for content in expected]), sink) == len(expected)
    sink.close()
    assert report.read_text() == hashlib.sha256(b"".join(expected)).hexdigest()
    assert not sink.holds_previous

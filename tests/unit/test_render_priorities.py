"""x264 sets the render's pace; what has slack runs at a lower CPU priority (Linux niceness), so that it
fills the encoder's pauses instead of taking its cores: the frame producer and the caption states'
ffmpeg BEHIND_ENCODER, the sound track and the thumbnail IN_BACKGROUND. The caller's own thread keeps
its priority: a server's worker thread renders one video after another."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceless.media import assemble as assembly
from faceless.media import overlays
from faceless.media.assemble import AssemblyJob, AssemblySegment, assemble
from faceless.media.encoder import FrameSink, produce_frames
from faceless.media.ffmpeg import (
    BEHIND_ENCODER,
    IN_BACKGROUND,
    ffmpeg_exe,
    lower_thread_priority,
    start_ffmpeg,
    stop_ffmpegs,
)
from faceless.models import WordTiming
from tests.unit.media_inputs import write_wav

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own niceness is Linux's")


def thread_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def task_niceness(pid: int, task: int | None = None) -> int:
    """The niceness of a process's main thread (or of one of its threads), from /proc."""
    stat = Path(f"/proc/{pid}/task/{task or pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])  # field 19: after the command's closing parenthesis


def below(niceness: int) -> int:
    """The niceness of something `niceness` lower in priority than this test's thread."""
    return min(19, thread_niceness() + niceness)


def waiting_ffmpeg() -> list[str]:
    """An ffmpeg that reads tiny raw frames from its stdin until it closes."""
    return [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "gray",
            "-s", "16x16", "-i", "pipe:0", "-f", "null", "-"]  # fmt: skip


def on_a_thread(function):  # noqa: ANN001, ANN201
    result: list = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


def test_a_thread_lowers_its_own_priority_and_nobody_else_s():
    # GIVEN this thread's niceness
    before = thread_niceness()
    # WHEN another thread lowers its priority by 5
    theirs = on_a_thread(lambda: (lower_thread_priority(5), thread_niceness())[1])
    # THEN that thread runs 5 lower, and this one as before
    assert theirs == min(19, before + 5)
    assert thread_niceness() == before


def test_an_ffmpeg_started_lower_runs_lower_in_every_thread_and_its_caller_does_not():
    # GIVEN an ffmpeg waiting for frames on its stdin, started BEHIND_ENCODER
    before = thread_niceness()
    lowered = start_ffmpeg(waiting_ffmpeg(), niceness=BEHIND_ENCODER, stdin=subprocess.PIPE)
    plain = start_ffmpeg(waiting_ffmpeg(), stdin=subprocess.PIPE)
    try:
        for process in (lowered, plain):  # a frame each: they start their threads
            process.stdin.write(bytes(16 * 16))
            process.stdin.flush()
        deadline = time.monotonic() + 10
        while len(tasks := [int(task) for task in os.listdir(f"/proc/{lowered.pid}/task")]) < 2:
            assert time.monotonic() < deadline, "ffmpeg started no thread"
            time.sleep(0.05)
        time.sleep(0.2)  # and the rest of them
        # THEN it and every thread it started run BEHIND_ENCODER lower; one started plainly runs as the caller
        assert {task_niceness(lowered.pid, task) for task in tasks} == {below(BEHIND_ENCODER)}
        assert task_niceness(plain.pid) == before
        # AND the caller's thread kept its priority
        assert thread_niceness() == before
    finally:
        for process in (lowered, plain):
            process.communicate(b"")


def test_an_ffmpeg_started_lower_is_ended_with_the_others_when_a_run_is_interrupted():
    # GIVEN an ffmpeg started BEHIND_ENCODER (from a helper thread), waiting for frames
    process = start_ffmpeg(waiting_ffmpeg(), niceness=BEHIND_ENCODER, stdin=subprocess.PIPE)
    try:
        # WHEN the run's ffmpegs are stopped (as an interrupted run stops them)
        stop_ffmpegs()
        # THEN it was among them: killed, not left running
        assert process.poll() is not None and process.returncode < 0
    finally:
        process.kill()
        process.communicate()


def test_frames_are_made_behind_the_encoder_and_the_writer_keeps_its_priority(tmp_path):
    # GIVEN frame jobs noting the priority they run at, piped to a reader
    seen: list[int] = []

    def job(buffer: memoryview) -> None:
        seen.append(thread_niceness())
        buffer[:] = b"\x80" * len(buffer)

    before = thread_niceness()
    sink = FrameSink([sys.executable, "-c", "import sys; sys.stdin.buffer.read()"], 4096, "test reader")
    # WHEN they are produced
    assert produce_frames(iter([job] * 12), sink) == 12
    sink.close()
    # THEN every frame was made BEHIND_ENCODER lower, and the writing thread kept its priority
    assert seen == [below(BEHIND_ENCODER)] * 12
    assert thread_niceness() == before


def test_a_render_makes_its_sound_and_thumbnail_in_the_background_and_keeps_its_callers_priority(
    tmp_path, monkeypatch
):
    # GIVEN a one-picture job with captions and music, and spies noting the priority of the sound
    # track's thread, the thumbnail's, and the caption states' ffmpeg
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 256, (320, 180, 3), dtype=np.uint8)).save(tmp_path / "picture.png")
    tone = 0.3 * np.sin(np.arange(24000) * 2 * np.pi * 440 / 16000)
    job = AssemblyJob(
        segments=[
            AssemblySegment(index=0, image_path=tmp_path / "picture.png",
                            voice_path=write_wav(tmp_path / "voice.wav", tone, 16000),
                            words=[WordTiming(word="Hello", start=0.1, end=0.6)])
        ],  # fmt: skip
        music_path=write_wav(tmp_path / "music.wav", np.repeat(tone[:, None], 2, axis=1).reshape(-1), 16000, 2),
        width=180, height=320, fps=30, title="Priorities", workdir=tmp_path / "out",
    )  # fmt: skip
    noted: dict[str, int] = {}

    def noting(name: str, function):  # noqa: ANN001, ANN202
        def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            noted[name] = thread_niceness()
            return function(*args, **kwargs)

        return spy

    def start_noted(command, **options):  # noqa: ANN001, ANN003, ANN202
        process = start_ffmpeg(command, **options)
        noted["caption states"] = task_niceness(process.pid)
        return process

    monkeypatch.setattr(assembly, "_soundtrack", noting("sound", assembly._soundtrack))
    monkeypatch.setattr(assembly, "_thumbnail", noting("thumbnail", assembly._thumbnail))
    monkeypatch.setattr(overlays, "start_ffmpeg", start_noted)
    before = thread_niceness()
    # WHEN it is rendered
    result = assemble(job)
    # THEN the sound track and the thumbnail were made IN_BACKGROUND, the caption states BEHIND_ENCODER
    assert noted == {
        "sound": below(IN_BACKGROUND),
        "thumbnail": below(IN_BACKGROUND),
        "caption states": below(BEHIND_ENCODER),
    }
    # AND the video was made, and the calling thread runs at the priority it had
    assert result.video_path.is_file() and result.frames == 45
    assert thread_niceness() == before

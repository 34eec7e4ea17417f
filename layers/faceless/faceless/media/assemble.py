"""Video assembly: pictures + narration clips + word timings (+ music) -> MP4, SRT, WebVTT, thumbnail.

The picture: every frame is a sub-pixel Ken Burns warp of its segment's picture (kenburns.py), piped
raw to one ffmpeg that burns the captions (ASS, libass) and encodes H.264 (encoder.py). The sound:
one pass over the whole timeline (audio.py). Segment k lasts its narration rounded up to whole frames
(timeline.py), so picture and voice share every boundary.

Two ways to the same video:

- `assemble(job)` with `mode=single` (the default, fastest on a 2-core machine): all segments' frames
  through one encoder while the sound track is mixed alongside, then one mux;
- per segment, for the cloud: `render_clip(ClipRenderSpec)` per segment (independent: a Map state
  runs them in parallel Lambdas), each a silent clip with its own captions, then `finish(FinishSpec)`
  concatenates the clips by stream copy (concat demuxer with `duration` lines, frame-exact), mixes the
  sound once and muxes. `assemble(job)` with `mode=per_segment` runs exactly that, locally.

Both give the same frame count, durations, captions and sound (tests/unit/test_render_paths.py).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

import numpy as np
from pydantic import BaseModel, Field, field_validator

from faceless.agents.text import normalise_whitespace, without_pictographs
from faceless.errors import RenderError
from faceless.media import audio
from faceless.media.captions import (
    CaptionGroup,
    build_caption_groups,
    caption_events,
    caption_layout,
    caption_texts,
    is_animated,
    to_ass,
    to_srt,
    to_vtt,
    write_text,
)
from faceless.media.encoder import MOVIE_TIMESCALE, FrameJob, FrameSink, encode_command, produce_frames
from faceless.media.ffmpeg import IN_BACKGROUND, THREADS, lower_thread_priority, run_ffmpeg
from faceless.media.fonts import FontSet, prepare_fonts
from faceless.media.scripts import RTL_SCRIPTS, language_script
from faceless.media.images import load_rgb
from faceless.media.kenburns import KenBurnsSource, Window, frame_bytes, motion_for, window_at
from faceless.media.overlays import CaptionBurner
from faceless.media.probe import count_video_frames
from faceless.media.thumbnail import image_strength, make_thumbnail, picture_strength, thumbnail_size
from faceless.media.timeline import (
    AUDIO_RATE,
    SegmentSpan,
    Timeline,
    build_timeline,
    frames_for,
    sample_at_frame,
    wav_duration_seconds,
)
from faceless.models import CaptionStyle, WordTiming

X264_THREADS = THREADS


class RenderMode(StrEnum):
    single = "single"  # one process, one encoder for every frame
    per_segment = "per_segment"  # a clip per segment, then concat + sound + mux (the cloud's way)


def _even(value: int) -> int:
    if value % 2:
        raise ValueError("must be even (H.264 yuv420p needs even dimensions)")
    return value


class _Frame(BaseModel):
    width: int = Field(ge=16, le=4096)
    height: int = Field(ge=16, le=4096)
    fps: int = Field(default=30, ge=1, le=120)

    @field_validator("width", "height")
    @classmethod
    def _even_size(cls, value: int) -> int:
        return _even(value)


# ------------------------------------------------------------------ the single-call API


class AssemblySegment(BaseModel):
    index: int
    image_path: Path  # any size or aspect: cover-fitted, never stretched
    voice_path: Path  # mono WAV (or anything ffmpeg reads), any sample rate
    words: list[WordTiming] = Field(default_factory=list)  # seconds from this clip's start
    clean_image_path: Path | None = None  # the picture without words set on it: the thumbnail's, if given


class AssemblyJob(_Frame):
    segments: list[AssemblySegment] = Field(min_length=1)
    music_path: Path | None = None  # stereo WAV (looped if short), or None for no music
    caption_style: CaptionStyle = CaptionStyle.bold
    language: str = "en"  # chooses the caption and title faces (Latin, CJK, Arabic, Hebrew)
    title: str
    workdir: Path  # scratch and outputs go here
    seed: str | None = None  # chooses the Ken Burns motions; default: the title
    mode: RenderMode = RenderMode.single
    clip_workers: int = Field(default=1, ge=1, le=8)  # per_segment mode: clips rendered at once


class AssemblyResult(BaseModel):
    video_path: Path
    srt_path: Path
    vtt_path: Path
    thumbnail_path: Path
    duration_seconds: float
    frames: int
    render_seconds: float
    segment_starts: list[float]  # where each segment starts in the final video, seconds
    segment_frames: list[int] = Field(default_factory=list)


# ------------------------------------------------------------------ the per-segment API (cloud)


class ClipRenderSpec(_Frame):
    """One segment's clip: everything a render worker needs, as local paths."""

    index: int  # the segment's index in the video (chooses its motion, with `seed`)
    image_path: Path
    voice_path: Path  # its narration: sets the clip's length (rounded up to whole frames)
    words: list[WordTiming] = Field(default_factory=list)  # seconds from the segment's start
    caption_style: CaptionStyle = CaptionStyle.bold
    language: str = "en"
    seed: str  # the same for every segment of a video (e.g. the job id, or the title)
    target: Path  # where the clip (.mp4, video only) is written


class ClipResult(BaseModel):
    index: int
    clip_path: Path
    frames: int
    narration_seconds: float
    duration_seconds: float
    image_score: float  # how strong the picture is as a thumbnail (higher is better)
    render_seconds: float


class FinishSegment(BaseModel):
    index: int
    clip_path: Path  # render_clip's output
    frames: int = Field(ge=1)  # ClipResult.frames
    voice_path: Path
    words: list[WordTiming] = Field(default_factory=list)
    image_path: Path | None = None  # needed for the segment(s) that may give the thumbnail
    image_score: float | None = None  # ClipResult.image_score: then only the best image is read
    clean_image_path: Path | None = None  # the picture without words set on it: the thumbnail's, if given


class FinishSpec(_Frame):
    segments: list[FinishSegment] = Field(min_length=1)
    music_path: Path | None = None
    language: str = "en"
    title: str
    workdir: Path  # outputs (video.mp4, captions.srt, captions.vtt, thumbnail.jpg) go here


# ------------------------------------------------------------------ shared steps


def _require_files(pairs: list[tuple[str, Path | None]]) -> None:
    for what, path in pairs:
        if path is not None and not path.is_file():
            raise RenderError(f"{what} file not found: {path}")


def _timeline_of_frames(indices: list[int], frames: list[int], fps: int) -> Timeline:
    spans, cursor = [], 0
    for index, count in zip(indices, frames, strict=True):
        spans.append(SegmentSpan(index=index, start_frame=cursor, frames=count, narration_seconds=count / fps))
        cursor += count
    return Timeline(fps=fps, spans=spans)


class _BurnIn(NamedTuple):
    """How captions get into the picture: static styles by a CaptionBurner on the frames (libass draws
    each caption state once), animated ones (karaoke sweeps) by the ass filter in the encoder."""

    burner: CaptionBurner | None = None
    filter_script: Path | None = None
    fonts_dir: Path | None = None


def _burn_in(
    groups: list[CaptionGroup], width: int, height: int, style: CaptionStyle, fonts: FontSet, fps: int,
    offset: int, scratch: Path,
) -> _BurnIn:  # fmt: skip
    if not groups:
        return _BurnIn()
    layout = caption_layout(width, height, style, fonts)
    if is_animated(style):
        script = write_text(scratch / "captions.ass", to_ass(groups, layout, fps, offset))
        return _BurnIn(filter_script=script, fonts_dir=fonts.folder)
    return _BurnIn(burner=CaptionBurner(caption_events(groups, layout, fps, offset), layout, fonts.folder, scratch))


def _frame_job(source: KenBurnsSource, window: Window, burner: CaptionBurner | None, index: int) -> FrameJob:
    def fill(buffer: memoryview) -> None:
        source.warp_into(window, buffer)
        if burner is not None:
            burner.burn(index, np.frombuffer(buffer, dtype=np.uint8))

    return fill


PictureScored = Callable[[float], None]  # gets each picture's picture_strength, in segment order


def _segment_frame_jobs(
    segments: list[tuple[int, Path, int]], seed: str, width: int, height: int, burner: CaptionBurner | None,
    on_picture: PictureScored | None = None,
) -> Iterator[FrameJob]:  # fmt: skip
    """Frame-filling jobs for (index, image, frames) segments, in order; a picture is loaded (and
    scored for the thumbnail, while it is decoded anyway) when its segment comes up, on the producer thread."""
    index = 0
    for segment_index, image_path, frames in segments:
        path = motion_for(segment_index, seed)
        picture = np.asarray(load_rgb(image_path))
        if on_picture is not None:
            on_picture(picture_strength(picture))
        source = KenBurnsSource(picture, width, height, max(path.start.zoom, path.end.zoom))
        del picture  # the source keeps its planes only
        for frame in range(frames):
            yield _frame_job(source, window_at(path, frame, frames), burner, index)
            index += 1


def _encode(
    segments: list[tuple[int, Path, int]], seed: str, width: int, height: int, fps: int, captions: _BurnIn,
    target: Path, what: str, on_picture: PictureScored | None = None,
) -> int:  # fmt: skip
    command = encode_command(width, height, fps, target, captions.filter_script, captions.fonts_dir, X264_THREADS)
    try:
        sink = FrameSink(command, frame_bytes(width, height), what)
        try:
            jobs = _segment_frame_jobs(segments, seed, width, height, captions.burner, on_picture)
            written = produce_frames(jobs, sink)
        except BaseException:
            sink.abort()
            raise
        sink.close()
    except BaseException:
        if captions.burner is not None:
            captions.burner.abort()
        raise
    if captions.burner is not None:
        captions.burner.close()
    return written


def _mux(video_args: list[str], soundtrack: Path, target: Path, cwd: Path, what: str) -> Path:
    run_ffmpeg(
        [*video_args, "-i", str(soundtrack), "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
         "-movie_timescale", str(MOVIE_TIMESCALE), "-movflags", "+faststart", str(target)],
        what=what,
        cwd=cwd,
    )  # fmt: skip
    return target


def _check_output(video: Path, total_frames: int) -> int:
    frames = count_video_frames(video)
    if frames != total_frames:
        raise RenderError(f"rendered video has {frames} frames; expected {total_frames}")
    return frames


class _Background:
    """Run a function on a thread of its own, `niceness` lower in CPU priority (ffmpeg.IN_BACKGROUND:
    it has until the picture is encoded); `result()` returns its value or raises its error."""

    def __init__(self, function, *args, niceness: int = 0) -> None:  # noqa: ANN001
        self._value = None
        self._error: BaseException | None = None

        def run() -> None:
            lower_thread_priority(niceness)  # its ffmpegs inherit it
            try:
                self._value = function(*args)
            except BaseException as exc:  # re-raised by result()
                self._error = exc

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def join(self) -> None:
        """Wait for the function to end, whatever it returns or raises."""
        self._thread.join()

    def result(self):  # noqa: ANN201
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _soundtrack(voices: list[Path], timeline: Timeline, music: Path | None, scratch: Path) -> Path:
    narration = audio.render_narration(voices, timeline, scratch / "narration.wav")
    total = sample_at_frame(timeline.total_frames, timeline.fps, AUDIO_RATE)
    return audio.render_soundtrack(narration, music, total, scratch / "soundtrack.m4a")


def _captions_and_files(
    timeline: Timeline, words: list[list[WordTiming]], fps: int, language: str, workdir: Path
) -> tuple[list[CaptionGroup], Path, Path]:
    """The caption groups of the whole video, and its SRT and WebVTT files written into `workdir`."""
    groups = build_caption_groups(list(zip(timeline.spans, words, strict=True)), fps)
    right_to_left = language_script(language) in RTL_SCRIPTS
    srt = write_text(workdir / "captions.srt", to_srt(groups, fps, right_to_left))
    vtt = write_text(workdir / "captions.vtt", to_vtt(groups, fps, right_to_left))
    return groups, srt, vtt


def _result(
    video: Path, frames: int, srt: Path, vtt: Path, thumbnail: Path, timeline: Timeline, started: float
) -> AssemblyResult:
    return AssemblyResult(
        video_path=video,
        srt_path=srt,
        vtt_path=vtt,
        thumbnail_path=thumbnail,
        duration_seconds=timeline.duration_seconds,
        frames=frames,
        render_seconds=round(time.monotonic() - started, 3),
        segment_starts=timeline.start_seconds(),
        segment_frames=[s.frames for s in timeline.spans],
    )


def _thumbnail(image: Path, title: str, language: str, width: int, height: int, scratch: Path, target: Path) -> Path:
    title = normalise_whitespace(without_pictographs(title))  # a title may keep its emoji; no face draws them
    fonts = prepare_fonts(scratch / "title-fonts", [title], language)
    thumb_w, thumb_h = thumbnail_size(width, height)
    return make_thumbnail(image, title, thumb_w, thumb_h, target, fonts)


# ------------------------------------------------------------------ per segment


def render_clip(spec: ClipRenderSpec) -> ClipResult:
    """One segment's silent clip: Ken Burns frames with its captions burned in (times from its own
    first frame), H.264 with the same settings as every other clip. Independent of the other segments."""
    started = time.monotonic()
    _require_files([(f"segment {spec.index}: image", spec.image_path), (f"segment {spec.index}: narration", spec.voice_path)])  # noqa: E501
    seconds = wav_duration_seconds(spec.voice_path)
    frames = frames_for(seconds, spec.fps)
    spec.target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".clip-{spec.index}-", dir=spec.target.parent) as scratch_name:
        scratch = Path(scratch_name)
        span = SegmentSpan(index=spec.index, start_frame=0, frames=frames, narration_seconds=seconds)
        groups = build_caption_groups([(span, spec.words)], spec.fps)
        fonts = prepare_fonts(scratch / "fonts", caption_texts(groups), spec.language)
        captions = _burn_in(groups, spec.width, spec.height, spec.caption_style, fonts, spec.fps, 0, scratch)
        scores: list[float] = []
        _encode(
            [(spec.index, spec.image_path, frames)], spec.seed, spec.width, spec.height, spec.fps, captions,
            spec.target, f"rendering clip {spec.index}", scores.append,
        )  # fmt: skip
    return ClipResult(
        index=spec.index,
        clip_path=spec.target,
        frames=frames,
        narration_seconds=seconds,
        duration_seconds=frames / spec.fps,
        image_score=scores[0],
        render_seconds=round(time.monotonic() - started, 3),
    )


def _best_image(candidates: list[tuple[int, Path | None, Path | None, float | None]]) -> Path:
    """The thumbnail's picture: the strongest among (segment index, image, the image without the words
    its provider set on it or None, known score or None), in its clean version when there is one (the
    title is set on it: a picture's own words would compete with it). Only that file must exist."""
    scored = [
        (score if score is not None else image_strength(image), index, clean or image)
        for index, image, clean, score in candidates
        if image is not None
    ]
    if not scored:
        raise RenderError("no segment image given for the thumbnail")
    _, index, picture = max(scored, key=lambda row: row[0])
    _require_files([(f"segment {index}: image", picture)])
    return picture


def finish(spec: FinishSpec) -> AssemblyResult:
    """Concatenate the clips (stream copy, frame-exact), mix the sound once (narration on the frame
    boundaries, ducked music, loudness-normalised), mux; write SRT, WebVTT and the thumbnail."""
    started = time.monotonic()
    segments = spec.segments
    _require_files(
        [(f"segment {s.index}: clip", s.clip_path) for s in segments]
        + [(f"segment {s.index}: narration", s.voice_path) for s in segments]
        + [("music", spec.music_path)]
    )
    workdir = spec.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    timeline = _timeline_of_frames([s.index for s in segments], [s.frames for s in segments], spec.fps)
    with tempfile.TemporaryDirectory(prefix=".finish-", dir=workdir) as scratch_name:
        scratch = Path(scratch_name)
        _, srt, vtt = _captions_and_files(timeline, [s.words for s in segments], spec.fps, spec.language, workdir)
        cover = _Background(  # the thumbnail is made while ffmpeg mixes the sound
            _thumbnail, _best_image([(s.index, s.image_path, s.clean_image_path, s.image_score) for s in segments]),
            spec.title, spec.language, spec.width, spec.height, scratch, workdir / "thumbnail.jpg",
        )  # fmt: skip
        try:
            soundtrack = _soundtrack([s.voice_path.resolve() for s in segments], timeline, spec.music_path, scratch)
            listing = scratch / "clips.txt"
            entries = [  # explicit durations: each clip starts at its exact frame-count position
                f"file '{_concat_quote(s.clip_path.resolve())}'\nduration {s.frames / spec.fps:.6f}\n"
                for s in segments
            ]
            listing.write_text("ffconcat version 1.0\n" + "".join(entries), encoding="utf-8")
            video = _mux(
                ["-f", "concat", "-safe", "0", "-i", listing.name], soundtrack, workdir / "video.mp4", scratch,
                "finishing the video (concat + sound)",
            )  # fmt: skip
            frames = _check_output(video, timeline.total_frames)
            thumbnail = cover.result()
        finally:  # nothing may still be writing when the scratch folder goes
            cover.join()
    return _result(video, frames, srt, vtt, thumbnail, timeline, started)


def _concat_quote(path: Path) -> str:
    return str(path).replace("'", "'\\''")


# ------------------------------------------------------------------ the whole thing


def _assemble_per_segment(job: AssemblyJob, workdir: Path, seed: str) -> AssemblyResult:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=".clips-", dir=workdir) as clips_name:
        clips = Path(clips_name)
        specs = [
            ClipRenderSpec(
                index=s.index, image_path=s.image_path, voice_path=s.voice_path, words=s.words,
                caption_style=job.caption_style, language=job.language, seed=seed,
                width=job.width, height=job.height, fps=job.fps, target=clips / f"clip_{n:03d}.mp4",
            )  # fmt: skip
            for n, s in enumerate(job.segments)
        ]
        workers = min(job.clip_workers, len(specs))
        if workers <= 1:
            results = [render_clip(spec) for spec in specs]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(render_clip, specs))
        result = finish(
            FinishSpec(
                segments=[
                    FinishSegment(
                        index=r.index, clip_path=r.clip_path, frames=r.frames, voice_path=s.voice_path,
                        words=s.words, image_path=s.image_path, image_score=r.image_score,
                        clean_image_path=s.clean_image_path,
                    )  # fmt: skip
                    for r, s in zip(results, job.segments, strict=True)
                ],
                music_path=job.music_path, language=job.language, title=job.title, workdir=workdir,
                width=job.width, height=job.height, fps=job.fps,
            )  # fmt: skip
        )
    result.render_seconds = round(time.monotonic() - started, 3)
    return result


class _CoverWhenScored:
    """The thumbnail of a single-process render: the renderer scores each picture as it decodes it, and
    once all are scored the strongest one becomes the thumbnail, on a thread, while the last segment encodes."""

    def __init__(self, job: AssemblyJob, scratch: Path, target: Path) -> None:
        self._job, self._scratch, self._target = job, scratch, target
        self._scores: list[float] = []  # in the order of job.segments: the order pictures are rendered
        self._background: _Background | None = None

    def scored(self, score: float) -> None:
        self._scores.append(score)
        if len(self._scores) == len(self._job.segments) and self._background is None:
            job = self._job
            scored = zip(job.segments, self._scores, strict=True)
            best = _best_image([(s.index, s.image_path, s.clean_image_path, score) for s, score in scored])
            self._background = _Background(
                _thumbnail, best, job.title, job.language, job.width, job.height, self._scratch, self._target,
                niceness=IN_BACKGROUND,
            )  # fmt: skip

    def result(self) -> Path:
        if self._background is None:  # every picture was rendered, so this cannot happen
            raise RenderError("the thumbnail was never started: not every picture was scored")
        return self._background.result()

    def join(self) -> None:
        if self._background is not None:
            self._background.join()


def assemble(job: AssemblyJob) -> AssemblyResult:
    """Render the video, its captions (SRT, WebVTT) and thumbnail into `job.workdir`."""
    started = time.monotonic()
    _require_files(
        [(f"segment {s.index}: image", s.image_path) for s in job.segments]
        + [(f"segment {s.index}: narration", s.voice_path) for s in job.segments]
        + [("music", job.music_path)]
    )
    workdir = job.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    seed = job.seed if job.seed is not None else job.title
    if job.mode is RenderMode.per_segment:
        return _assemble_per_segment(job, workdir, seed)
    with tempfile.TemporaryDirectory(prefix=".assembly-", dir=workdir) as scratch_name:
        scratch = Path(scratch_name)
        durations = [(s.index, wav_duration_seconds(s.voice_path)) for s in job.segments]
        timeline = build_timeline(durations, job.fps)
        voices = [s.voice_path.resolve() for s in job.segments]
        # the sound track and the thumbnail are made alongside the picture (ffmpeg and Pillow, off the GIL),
        # at the lowest priority: they fill the encoder's pauses and are needed only for the mux
        sound = _Background(_soundtrack, voices, timeline, job.music_path, scratch, niceness=IN_BACKGROUND)
        cover = _CoverWhenScored(job, scratch, workdir / "thumbnail.jpg")
        words = [s.words for s in job.segments]
        groups, srt, vtt = _captions_and_files(timeline, words, job.fps, job.language, workdir)
        fonts = prepare_fonts(scratch / "fonts", caption_texts(groups), job.language)
        try:
            captions = _burn_in(groups, job.width, job.height, job.caption_style, fonts, job.fps, 0, scratch)
            _encode(
                [(s.index, s.image_path, span.frames) for s, span in zip(job.segments, timeline.spans, strict=True)],
                seed, job.width, job.height, job.fps, captions, scratch / "picture.mp4", "rendering the video",
                cover.scored,
            )  # fmt: skip
            soundtrack = sound.result()
            video = _mux(["-i", "picture.mp4"], soundtrack, workdir / "video.mp4", scratch, "muxing the video")
            frames = _check_output(video, timeline.total_frames)
            thumbnail = cover.result()
        finally:  # whatever happened, nothing may still be writing when the scratch folder goes
            sound.join()
            cover.join()
    return _result(video, frames, srt, vtt, thumbnail, timeline, started)

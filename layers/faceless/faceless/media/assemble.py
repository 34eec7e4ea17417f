"""Video assembly: pictures + narration clips + word timings (+ music) -> MP4, SRT, WebVTT, thumbnail.

Steps (each one ffmpeg run, in a scratch folder under the workdir, removed at the end):
1. timeline: each segment lasts its narration rounded up to whole frames;
2. per segment, a clip: the cover-fitted picture with sub-pixel Ken Burns motion and its captions
   burned in (ASS, Anton), H.264 High yuv420p, no sound;
3. narration: the voices padded with silence to their segments' exact lengths, joined;
4. finish: the clips concatenated by stream copy, the narration (+ ducked music) encoded to AAC,
   `+faststart`. Clips are independent, so (per the design) they can later render in parallel Lambdas.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from faceless.errors import RenderError
from faceless.media import audio
from faceless.media.captions import (
    CaptionGroup,
    build_caption_groups,
    caption_layout,
    to_ass,
    to_srt,
    to_vtt,
    write_text,
)
from faceless.media.ffmpeg import THREADS, run_ffmpeg
from faceless.media.fonts import install_fonts
from faceless.media.images import cover_fit_file
from faceless.media.kenburns import motion_for, perspective_filter
from faceless.media.probe import probe
from faceless.media.thumbnail import make_thumbnail
from faceless.media.timeline import AUDIO_RATE, SegmentSpan, build_timeline, sample_at_frame, wav_duration_seconds
from faceless.models import CaptionStyle, WordTiming

X264_PRESET = "veryfast"
X264_CRF = 21
_FONTS_DIR = "fonts"
# MP4 edit lists are written in the movie timescale (1000 by default: a 149-frame clip would claim
# 4.966 s, not 4.9667 s); 48000 counts every frame at 24/25/30/50/60 fps and every audio sample exactly.
MOVIE_TIMESCALE = 48_000


class AssemblySegment(BaseModel):
    index: int
    image_path: Path  # any size or aspect: cover-fitted, never stretched
    voice_path: Path  # mono WAV, any sample rate
    words: list[WordTiming] = Field(default_factory=list)  # seconds from this clip's start


class AssemblyJob(BaseModel):
    segments: list[AssemblySegment] = Field(min_length=1)
    music_path: Path | None = None  # stereo WAV (looped if short), or None for no music
    width: int = Field(ge=16, le=4096)
    height: int = Field(ge=16, le=4096)
    fps: int = Field(default=30, ge=1, le=120)
    caption_style: CaptionStyle = CaptionStyle.bold
    title: str
    workdir: Path  # scratch and outputs go here
    clip_workers: int = Field(default=THREADS, ge=1, le=8)  # clips rendered at once; they share THREADS

    @field_validator("width", "height")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError("must be even (H.264 yuv420p needs even dimensions)")
        return value


class AssemblyResult(BaseModel):
    video_path: Path
    srt_path: Path
    vtt_path: Path
    thumbnail_path: Path
    duration_seconds: float
    frames: int
    render_seconds: float
    segment_starts: list[float]  # where each segment starts in the final video, seconds


class ClipSpec(BaseModel):
    """Everything one clip render needs: a unit of work a separate worker (or Lambda) can do."""

    index: int
    image_path: Path  # the source picture, any size
    still_path: Path  # where its cover-fitted copy goes (the folder holds the ASS and the fonts too)
    ass_path: Path | None  # captions with times relative to the clip, or None
    fonts_dir: Path
    frames: int = Field(ge=1)
    fps: int
    width: int
    height: int
    target: Path
    threads: int = THREADS


# ------------------------------------------------------------------ steps


def _require_inputs(job: AssemblyJob) -> None:
    for segment in job.segments:
        for kind, path in (("image", segment.image_path), ("narration", segment.voice_path)):
            if not path.is_file():
                raise RenderError(f"segment {segment.index}: {kind} file not found: {path}")
    if job.music_path is not None and not job.music_path.is_file():
        raise RenderError(f"music file not found: {job.music_path}")


def _video_codec_args(fps: int, threads: int) -> list[str]:
    return [
        "-c:v", "libx264", "-preset", X264_PRESET, "-crf", str(X264_CRF), "-profile:v", "high",
        "-pix_fmt", "yuv420p", "-g", str(2 * fps), "-r", str(fps), "-threads", str(threads),
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
        "-movie_timescale", str(MOVIE_TIMESCALE),
    ]  # fmt: skip


def clip_filter(clip: ClipSpec) -> str:
    """Still -> `frames` frames of Ken Burns motion (sub-pixel), then the captions on top (not moving)."""
    steps = [
        "[0:v]scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
        f"loop=loop={clip.frames - 1}:size=1:start=0",  # decode and convert the still once
        f"setpts=N/({clip.fps}*TB)",
        perspective_filter(motion_for(clip.index), clip.width, clip.height, clip.frames),
    ]
    if clip.ass_path is not None:
        steps.append(f"ass=filename={clip.ass_path.name}:fontsdir={clip.fonts_dir.name}")
    # tag the frames themselves: the encoder takes colour metadata from the frames, not only the CLI
    steps.append("setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709")
    return ",".join(steps) + "[v]"


def render_clip(clip: ClipSpec) -> Path:
    """One segment's silent clip; runs in the folder holding the still, the ASS and the fonts."""
    cover_fit_file(clip.image_path, clip.width, clip.height, clip.still_path)
    folder = clip.still_path.parent
    run_ffmpeg(
        ["-framerate", str(clip.fps), "-i", clip.still_path.name,
         "-filter_complex_threads", str(clip.threads), "-filter_complex", clip_filter(clip),
         "-map", "[v]", "-frames:v", str(clip.frames), "-an", *_video_codec_args(clip.fps, clip.threads),
         str(clip.target)],
        what=f"rendering clip {clip.index}",
        cwd=folder,
    )  # fmt: skip
    return clip.target


def _clip_specs(
    job: AssemblyJob, spans: list[SegmentSpan], groups: list[CaptionGroup], scratch: Path, threads: int
) -> list[ClipSpec]:
    layout = caption_layout(job.width, job.height, job.caption_style)
    fonts = install_fonts(scratch / _FONTS_DIR)
    specs = []
    for position, (segment, span) in enumerate(zip(job.segments, spans, strict=True)):
        own = [g for g in groups if span.start_frame <= g.start_frame < span.end_frame]
        ass = None
        if own:
            ass = write_text(scratch / f"clip_{position:03d}.ass", to_ass(own, layout, job.fps, span.start_frame))
        specs.append(
            ClipSpec(
                index=segment.index,
                image_path=segment.image_path,
                still_path=scratch / f"still_{position:03d}.png",
                ass_path=ass,
                fonts_dir=fonts,
                frames=span.frames,
                fps=job.fps,
                width=job.width,
                height=job.height,
                target=scratch / f"clip_{position:03d}.mp4",
                threads=threads,
            )
        )
    return specs


def _render_clips(specs: list[ClipSpec], workers: int) -> list[Path]:
    if workers <= 1:
        return [render_clip(spec) for spec in specs]
    with ThreadPoolExecutor(max_workers=workers) as pool:  # ffmpeg and Pillow do the work, off the GIL
        return list(pool.map(render_clip, specs))


def _finish(job: AssemblyJob, clips: list[Path], clip_frames: list[int], narration: Path, target: Path) -> Path:
    """Concatenate the clips (stream copy) and encode the one sound track next to them."""
    total_frames = sum(clip_frames)
    listing = narration.parent / "clips.txt"
    # explicit durations: the concat demuxer then places each clip at its exact frame-count start
    entries = [
        f"file '{clip.name}'\nduration {frames / job.fps:.6f}\n"
        for clip, frames in zip(clips, clip_frames, strict=True)
    ]
    listing.write_text("ffconcat version 1.0\n" + "".join(entries), encoding="utf-8")
    total_samples = sample_at_frame(total_frames, job.fps)
    inputs = ["-f", "concat", "-safe", "0", "-i", listing.name, "-i", narration.name]
    music_input, gain = None, 0.0
    if job.music_path is not None:
        gain = audio.music_gain_db(narration, job.music_path, total_samples / AUDIO_RATE)
        inputs += ["-stream_loop", "-1", "-i", str(job.music_path.resolve())]
        music_input = 2
    graph = audio.mix_graph(1, music_input, total_samples, gain)
    run_ffmpeg(
        [*inputs, "-filter_complex", graph, "-map", "0:v:0", "-map", "[aout]", "-c:v", "copy",
         *audio.audio_codec_args(), "-movie_timescale", str(MOVIE_TIMESCALE), "-movflags", "+faststart",
         str(target)],
        what="finishing the video (concat + sound)",
        cwd=narration.parent,
    )  # fmt: skip
    return target


def _check_output(video: Path, total_frames: int, fps: int, width: int, height: int) -> int:
    info = probe(video)
    if (info.width, info.height) != (width, height) or info.frames != total_frames:
        raise RenderError(
            f"rendered video is {info.width}x{info.height} with {info.frames} frames; "
            f"expected {width}x{height} with {total_frames} frames at {fps} fps"
        )
    return info.frames


# ------------------------------------------------------------------ the whole thing


def assemble(job: AssemblyJob) -> AssemblyResult:
    """Render the video, its captions (SRT, WebVTT) and thumbnail into `job.workdir`."""
    started = time.monotonic()
    _require_inputs(job)
    workdir = job.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".assembly-", dir=workdir) as scratch_name:
        scratch = Path(scratch_name)
        durations = [(s.index, wav_duration_seconds(s.voice_path)) for s in job.segments]
        timeline = build_timeline(durations, job.fps)
        groups = build_caption_groups(
            [(span, segment.words) for span, segment in zip(timeline.spans, job.segments, strict=True)], job.fps
        )
        srt = write_text(workdir / "captions.srt", to_srt(groups, job.fps))
        vtt = write_text(workdir / "captions.vtt", to_vtt(groups, job.fps))

        workers = min(job.clip_workers, len(job.segments))
        specs = _clip_specs(job, timeline.spans, groups, scratch, threads=max(1, THREADS // workers))
        clips = _render_clips(specs, workers)
        narration = audio.render_narration(
            [s.voice_path.resolve() for s in job.segments], timeline, scratch / "narration.wav"
        )
        video = _finish(job, clips, [span.frames for span in timeline.spans], narration, workdir / "video.mp4")
        frames = _check_output(video, timeline.total_frames, job.fps, job.width, job.height)
        thumbnail = make_thumbnail(
            job.segments[0].image_path, job.title, job.width, job.height, workdir / "thumbnail.jpg"
        )
    return AssemblyResult(
        video_path=video,
        srt_path=srt,
        vtt_path=vtt,
        thumbnail_path=thumbnail,
        duration_seconds=timeline.duration_seconds,
        frames=frames,
        render_seconds=round(time.monotonic() - started, 3),
        segment_starts=timeline.start_seconds(),
    )

"""The work of each state of the video state machine. Handlers parse their event into one of the
`...Input` models below, call one function here and return its result as JSON."""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path

from pydantic import Field, ValidationError

from faceless import journal
from faceless.agents import bible as bible_agent
from faceless.agents import context as context_agent
from faceless.agents import director, refine, storyteller
from faceless.billing.prices import estimate_cost
from faceless.bootstrap import Services
from faceless.errors import BlobNotFoundError, InvalidRequestError
from faceless.models import (
    ClipAsset,
    Context,
    Contract,
    Direction,
    ImageAsset,
    JobError,
    JobInput,
    JobProgress,
    JobResult,
    JobSpec,
    JobStatus,
    JobStatusName,
    LlmUsage,
    Metadata,
    MusicAsset,
    Outputs,
    Script,
    Segment,
    SegmentMedia,
    VideoRequest,
    VisualBible,
    VoiceAsset,
)
from faceless.media.scripts import check_captions_drawable
from faceless.planning import make_plan
from faceless.providers.base import ImageRequest, SpeechRequest
from faceless.store import BlobStore, get_json, put_json
from faceless.jobs import STAGE_PERCENT, media_percent, post_text, report_progress, usage_from_metadata
from faceless.observability import logger, record_video_failed, record_video_succeeded

# --------------------------------------------------------------------------- state inputs


class PlanOutput(Contract):
    job: JobSpec
    script: Script | None  # set here when the user gave their own script; WriteScript is then skipped
    bible: VisualBible | None = None


class JobStepInput(Contract):
    job: JobSpec


class ScriptStepInput(Contract):
    job: JobSpec
    script: Script


class DirectInput(Contract):
    job: JobSpec
    script: Script
    bible: VisualBible | None = None


class RefineInput(Contract):
    job: JobSpec
    script: Script
    bible: VisualBible | None = None
    context: Context
    segments: list[Segment]


class SegmentStepInput(Contract):
    job: JobSpec
    segment: Segment


class AssembleInput(Contract):
    job: JobSpec
    script: Script
    segments: list[Segment]
    media: list[SegmentMedia]
    music: MusicAsset


class RenderClipInput(Contract):
    job: JobSpec
    media: SegmentMedia


class FinishInput(Contract):
    job: JobSpec
    script: Script
    segments: list[Segment]
    media: list[SegmentMedia]
    music: MusicAsset
    clips: list[ClipAsset]


class FinalizeInput(Contract):
    job: JobSpec
    script: Script
    segments: list[Segment]
    media: list[SegmentMedia]
    outputs: Outputs
    task_token: str | None = None  # a batch row waits on it ($$.Execution.Input.task_token)


class FailureCause(Contract):
    Error: str = "States.TaskFailed"
    Cause: str = ""


class FailInput(Contract):
    job_id: str
    tenant_id: str = "local"
    job: JobSpec | None = None
    error: FailureCause = Field(default_factory=FailureCause)
    task_token: str | None = None  # a batch row waits on it ($$.Execution.Input.task_token)


# --------------------------------------------------------------------------- steps


PROGRESS_FILE = "progress.json"  # a locally made job's stage and percent, beside status.json (see _progress)


def job_prefix(tenant_id: str, job_id: str) -> str:
    return f"jobs/{tenant_id}/{job_id}"


def write_status(services: Services, status: JobStatus) -> None:
    put_json(services.store, f"{job_prefix(status.tenant_id, status.job_id)}/status.json", status.model_dump(mode="json"))


def mark_interrupted(services: Services, job_id: str, tenant_id: str, cause: str, percent: int) -> JobError:
    """A local run stopped before its video was made (Ctrl-C, a server stopped): its status.json says
    failed, Interrupted, and `cause` (where it had got to), as `fail` writes a failure, instead of
    "running" forever."""
    error = JobError(error="Interrupted", cause=cause)
    status = JobStatus(job_id=job_id, tenant_id=tenant_id, status=JobStatusName.failed, stage="failed",
                       progress=percent, error=error)  # fmt: skip
    write_status(services, status)
    return error


def plan_job(event: JobInput, services: Services) -> PlanOutput:
    job = JobSpec(
        job_id=event.job_id,
        tenant_id=event.tenant_id,
        prefix=job_prefix(event.tenant_id, event.job_id),
        request=event.request,
        plan=make_plan(event.request, services.settings),
    )
    with journal.timed(services.store, job, "plan"):
        # a local folder's readers (a server starting on it) can tell this live run from an abandoned one
        services.store.claim(job.prefix)
        put_json(services.store, job.key("request.json"), event.request.model_dump(mode="json"))
        write_status(services, JobStatus(job_id=job.job_id, tenant_id=job.tenant_id, status=JobStatusName.running, stage="plan"))
        _progress(services, job, "plan", request=job.request)
        # a language or voice the speech provider lacks fails here, before any model is paid for
        services.speech.check_voice(job.request.language, job.request.voice)
        # and so does text whose captions no shipped face can draw (they would be boxes)
        check_captions_drawable(job.request.script, job.request.language)
        script = storyteller.script_from_user(job.request, job.plan) if job.request.script else None
    return PlanOutput(job=job, script=script)


def write_script(event: JobStepInput, services: Services) -> Script:
    _progress(services, event.job, "script")
    with journal.timed(services.store, event.job, "script"):
        script, usages = storyteller.write_script(services.llm, event.job.request, event.job.plan)
        journal.record_usage(services.store, event.job, "storyteller", usages)
    return script


def write_bible(event: ScriptStepInput, services: Services) -> VisualBible:
    _progress(services, event.job, "bible")
    with journal.timed(services.store, event.job, "bible"):
        bible, usages = bible_agent.write_bible(services.llm, event.script, event.job.plan)
        journal.record_usage(services.store, event.job, "bible", usages)
    return bible


def analyse_context(event: ScriptStepInput, services: Services) -> Context:
    _progress(services, event.job, "analyse")
    with journal.timed(services.store, event.job, "context"):
        context, usages = context_agent.analyse_context(services.llm, event.script, event.job.plan)
        journal.record_usage(services.store, event.job, "context", usages)
    return context


def direct(event: DirectInput, services: Services) -> Direction:
    _progress(services, event.job, "analyse")
    with journal.timed(services.store, event.job, "direct"):
        segments, usages = director.direct(services.llm, event.script, event.job.plan, event.job.request, event.bible)
        journal.record_usage(services.store, event.job, "director", usages)
    return Direction(segments=segments)


def refine_segments(event: RefineInput, services: Services) -> Direction:
    _progress(services, event.job, "refine")
    with journal.timed(services.store, event.job, "refine"):
        segments, usages = refine.refine(
            services.llm, event.segments, event.context, event.bible, event.job.request, event.job.plan
        )
        journal.record_usage(services.store, event.job, "refine", usages)
    return Direction(segments=segments)


def image_key(job: JobSpec, index: int) -> str:
    return job.key("images", f"{index:02d}.png")


def clean_image_key(job: JobSpec, index: int) -> str:
    """The picture without the words its provider set on it (offline cards): the thumbnail's background."""
    return job.key("images", f"{index:02d}.clean.jpg")


def make_image(event: SegmentStepInput, services: Services) -> ImageAsset:
    job, segment = event.job, event.segment
    width, height = job.plan.width, job.plan.height
    if segment.reuse_image_of is not None:
        # the same picture is drawn by the segment it copies; no second paid call
        return ImageAsset(
            index=segment.index,
            key=image_key(job, segment.reuse_image_of),
            width=width,
            height=height,
            provider="reused",
            reused_from=segment.reuse_image_of,
        )
    with journal.timed(services.store, job, "images", str(segment.index)):
        generator = services.image_generator(job.plan.image_provider)
        seed = int.from_bytes(hashlib.sha256(f"{job.job_id}:{segment.index}".encode()).digest()[:4], "big")
        image = generator.generate(
            ImageRequest(
                index=segment.index,
                prompt=segment.image_prompt or segment.visual_prompt,
                text=segment.text,
                shot=segment.shot,
                art_style=job.request.art_style,
                width=width,
                height=height,
                seed=seed,
            )
        )
        key = services.store.put_bytes(image_key(job, segment.index), image.data, "image/png")
        clean_key = None
        if image.clean_data is not None:
            clean_key = services.store.put_bytes(clean_image_key(job, segment.index), image.clean_data, "image/jpeg")
    _media_progress(services, job)
    # the provider's native size, kept as drawn: assembly cover-fits it to the output (never stretched)
    return ImageAsset(
        index=segment.index,
        key=key,
        width=image.width,
        height=image.height,
        provider=image.provider,
        model=image.model,
        cached=image.cached,
        clean_key=clean_key,
    )


def make_voice(event: SegmentStepInput, services: Services) -> VoiceAsset:
    job, segment = event.job, event.segment
    with journal.timed(services.store, job, "voices", str(segment.index)):
        voice = None if job.plan.voice == "default" else job.plan.voice
        speech = services.speech.synthesize(
            SpeechRequest(text=segment.text, language=job.request.language, voice=voice, rate=services.settings.tts_rate)
        )
        key = services.store.put_bytes(job.key("voice", f"{segment.index:02d}.wav"), speech.wav, "audio/wav")
    _media_progress(services, job)
    return VoiceAsset(
        index=segment.index,
        key=key,
        duration_seconds=speech.duration_seconds,
        words=speech.words,
        provider=speech.provider,
        characters=len(segment.text),
        cached=speech.cached,
    )


def make_music(event: JobStepInput, services: Services) -> MusicAsset:
    job = event.job
    _progress(services, job, "media")
    if job.plan.music_mood is None:
        return MusicAsset()
    with journal.timed(services.store, job, "music"):
        # The narration's exact length is not known yet (voices render in parallel): compose generously;
        # assembly trims and fades it to the video.
        seconds = job.plan.target_words / 2.0 + 10
        wav = services.music.compose(job.plan.music_mood, seconds)
        key = services.store.put_bytes(job.key("music.wav"), wav, "audio/wav")
    return MusicAsset(key=key, mood=job.plan.music_mood, duration_seconds=seconds)


def assemble(event: AssembleInput, services: Services) -> Outputs:
    """The single-process render: every frame of every segment in one process (fastest on 2 cores)."""
    from faceless.media.assemble import AssemblyJob, AssemblySegment
    from faceless.media.assemble import assemble as render

    job, store = event.job, services.store
    _progress(services, job, "assemble")
    with journal.timed(store, job, "assemble"):
        media = _ordered_media(event.media, event.segments)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="faceless-render-") as scratch:
            result = render(
                AssemblyJob(
                    segments=[
                        AssemblySegment(
                            index=m.voice.index,
                            image_path=store.local_path(m.image.key),
                            voice_path=store.local_path(m.voice.key),
                            words=m.voice.words,
                            clean_image_path=_clean_image_path(store, media, m),
                        )
                        for m in media
                    ],
                    music_path=store.local_path(event.music.key) if event.music.key else None,
                    width=job.plan.width,
                    height=job.plan.height,
                    caption_style=job.request.caption_style,
                    language=job.request.language,
                    title=event.script.title,
                    seed=job.job_id,
                    workdir=Path(scratch),
                )
            )
            return _publish(services, job, event.script, event.segments, result, time.monotonic() - started)


def render_clip_step(event: RenderClipInput, services: Services) -> ClipAsset:
    """The per-segment render (the cloud's way): one segment's silent clip, captions burned in."""
    from faceless.media.assemble import ClipRenderSpec, render_clip

    job, media, store = event.job, event.media, services.store
    index = media.voice.index
    with journal.timed(store, job, "render", str(index)):
        with tempfile.TemporaryDirectory(prefix="faceless-clip-") as scratch:
            clip = render_clip(
                ClipRenderSpec(
                    width=job.plan.width,
                    height=job.plan.height,
                    index=index,
                    image_path=store.local_path(media.image.key),
                    voice_path=store.local_path(media.voice.key),
                    words=media.voice.words,
                    caption_style=job.request.caption_style,
                    language=job.request.language,
                    seed=job.job_id,
                    target=Path(scratch) / f"{index:02d}.mp4",
                )
            )
            key = store.put_file(job.key("clips", f"{index:02d}.mp4"), clip.clip_path, "video/mp4")
    return ClipAsset(
        index=index,
        key=key,
        frames=clip.frames,
        duration_seconds=clip.duration_seconds,
        image_score=clip.image_score,
        render_seconds=round(clip.render_seconds, 3),
    )


def finish_step(event: FinishInput, services: Services) -> Outputs:
    """Joins the clips by stream copy, encodes the one soundtrack, muxes, writes captions and thumbnail."""
    from faceless.media.assemble import FinishSegment, FinishSpec, finish

    job, store = event.job, services.store
    _progress(services, job, "assemble")
    with journal.timed(store, job, "assemble"):
        media = _ordered_media(event.media, event.segments)
        clips = {clip.index: clip for clip in event.clips}
        if set(clips) != {m.voice.index for m in media}:
            raise InvalidRequestError(f"finish got clips {sorted(clips)} for segments {[m.voice.index for m in media]}")
        best = max(clips.values(), key=lambda clip: clip.image_score).index  # fetch only the thumbnail's image
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="faceless-finish-") as scratch:
            result = finish(
                FinishSpec(
                    width=job.plan.width,
                    height=job.plan.height,
                    segments=[
                        FinishSegment(
                            index=m.voice.index,
                            clip_path=store.local_path(clips[m.voice.index].key),
                            frames=clips[m.voice.index].frames,
                            voice_path=store.local_path(m.voice.key),
                            words=m.voice.words,
                            image_path=store.local_path(m.image.key) if m.voice.index == best else None,
                            image_score=clips[m.voice.index].image_score,
                            clean_image_path=_clean_image_path(store, media, m) if m.voice.index == best else None,
                        )
                        for m in media
                    ],
                    music_path=store.local_path(event.music.key) if event.music.key else None,
                    language=job.request.language,
                    title=event.script.title,
                    workdir=Path(scratch),
                )
            )
            # the clips' own render time counts too: it is compute we pay for
            seconds = time.monotonic() - started + sum(clip.render_seconds for clip in event.clips)
            return _publish(services, job, event.script, event.segments, result, seconds)


def _ordered_media(media: list[SegmentMedia], segments: list[Segment]) -> list[SegmentMedia]:
    ordered = sorted(media, key=lambda m: m.voice.index)
    if len(ordered) != len(segments):
        raise InvalidRequestError(f"assembly got {len(ordered)} media for {len(segments)} segments")
    return ordered


def _clean_image_path(store: BlobStore, media: list[SegmentMedia], item: SegmentMedia) -> Path | None:
    """The segment's picture without the words its provider set on it, if there is one (a reused
    picture's is that of the segment that drew it)."""
    key = item.image.clean_key
    if key is None and item.image.reused_from is not None:
        key = next((m.image.clean_key for m in media if m.image.index == item.image.reused_from), None)
    return store.local_path(key) if key is not None else None


def _publish(services: Services, job: JobSpec, script: Script, segments: list[Segment], result, render_seconds: float) -> Outputs:
    """Puts the rendered files and script.json in the blob store, beside the job."""
    store = services.store
    keys = {
        "video": store.put_file(job.key("video.mp4"), result.video_path, "video/mp4"),
        "srt": store.put_file(job.key("captions.srt"), result.srt_path, "application/x-subrip"),
        "vtt": store.put_file(job.key("captions.vtt"), result.vtt_path, "text/vtt"),
        "thumbnail": store.put_file(job.key("thumbnail.jpg"), result.thumbnail_path, "image/jpeg"),
    }
    script_key = put_json(
        store,
        job.key("script.json"),
        {
            "title": script.title,
            "description": script.description,
            "hashtags": script.hashtags,
            "narration": script.narration,
            "source": script.source,
            "segments": [
                {**s.model_dump(mode="json"), "start_seconds": round(start, 3)}
                for s, start in zip(segments, result.segment_starts, strict=False)
            ],
        },
    )
    return Outputs(
        video_key=keys["video"],
        captions_srt_key=keys["srt"],
        captions_vtt_key=keys["vtt"],
        thumbnail_key=keys["thumbnail"],
        script_key=script_key,
        duration_seconds=result.duration_seconds,
        width=job.plan.width,
        height=job.plan.height,
        render_seconds=round(render_seconds, 3),
    )


def finalize(event: FinalizeInput, services: Services) -> JobResult:
    job, store = event.job, services.store
    _progress(services, job, "finalize")
    with journal.timed(store, job, "finalize"):
        usages = journal.collect_usage(store, job)
        drawn = [m.image for m in event.media if m.image.reused_from is None]
        speech_chars: dict[str, int] = {}
        for m in event.media:
            if not m.voice.cached:  # a cached clip was paid for by an earlier run
                speech_chars[m.voice.provider] = speech_chars.get(m.voice.provider, 0) + m.voice.characters
        cost = estimate_cost(usages, [i.model for i in drawn if not i.cached], speech_chars, event.outputs.render_seconds)
        cache_hits, paid_calls = _paid_call_counts(usages, drawn, [m.voice for m in event.media])
        outputs = event.outputs
        metadata_key = job.key("metadata.json")

    # timings are read after finalize's own record is written, so the table includes it
    metadata = Metadata(
        job_id=job.job_id,
        title=event.script.title,
        description=event.script.description,
        hashtags=event.script.hashtags,
        request=job.request,
        plan=job.plan,
        duration_seconds=outputs.duration_seconds,
        timings=journal.collect_timings(store, job),
        usage=usages,
        tokens_by_agent=journal.tokens_by_agent(usages),
        images=len(drawn),
        images_reused=len(event.media) - len(drawn),
        tts_characters=sum(speech_chars.values()),
        render_seconds=outputs.render_seconds,
        cost=cost,
        cache_hits=cache_hits,
        paid_calls=paid_calls,
        outputs={
            "video": outputs.video_key,
            "captions_srt": outputs.captions_srt_key,
            "captions_vtt": outputs.captions_vtt_key,
            "thumbnail": outputs.thumbnail_key,
            "script": outputs.script_key,
            "metadata": metadata_key,
        },
    )
    put_json(store, metadata_key, metadata.model_dump(mode="json"))
    usage = usage_from_metadata(metadata)
    if services.jobs is not None:
        post = post_text(metadata)
        services.jobs.succeed(job.tenant_id, job.job_id, metadata.outputs, usage, cost.total_usd, post)
    record_video_succeeded(
        prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens, images=usage.images,
        images_reused=usage.images_reused, tts_characters=usage.tts_characters,
        render_seconds=usage.render_seconds, cost_usd=cost.total_usd,
    )
    write_status(
        services,
        JobStatus(job_id=job.job_id, tenant_id=job.tenant_id, status=JobStatusName.succeeded, stage="done", progress=100),
    )
    _note_progress(services, job, "done", 100)  # a made video's folder says so everywhere (a failed one keeps where it failed)
    services.store.release(job.prefix)
    result = JobResult(job_id=job.job_id, status=JobStatusName.succeeded, outputs=outputs, metadata_key=metadata_key, cost=cost)
    if event.task_token:
        services.callbacks.succeed(event.task_token, result.model_dump(mode="json"))
    return result


OFFLINE_PROVIDERS = frozenset({"offline", "espeak", "reused"})


def _paid_call_counts(
    usages: list[LlmUsage], images: list[ImageAsset], voices: list[VoiceAsset]
) -> tuple[dict[str, int], dict[str, int]]:
    """(cache hits, calls paid to a cloud provider) per kind; LLM retries are paid calls too."""
    hits = {
        "llm": sum(1 for u in usages if u.cached),
        "images": sum(1 for i in images if i.cached),
        "speech": sum(1 for v in voices if v.cached),
    }
    paid = {
        "llm": sum(u.attempts for u in usages if not u.cached and u.provider not in OFFLINE_PROVIDERS),
        "images": sum(1 for i in images if not i.cached and i.provider not in OFFLINE_PROVIDERS),
        "speech": sum(1 for v in voices if not v.cached and v.provider not in OFFLINE_PROVIDERS),
    }
    return hits, paid


def fail(event: FailInput, services: Services) -> JobResult:
    error = JobError(error=event.error.Error, cause=readable_cause(event.error.Cause))
    record = services.jobs.get(event.tenant_id, event.job_id) if services.jobs is not None else None
    if services.jobs is not None:
        services.jobs.fail(event.tenant_id, event.job_id, error)
    record_video_failed(record.stage if record else "unknown", error.error)
    write_status(
        services,
        JobStatus(job_id=event.job_id, tenant_id=event.tenant_id, status=JobStatusName.failed, stage="failed", error=error),
    )
    services.store.release(job_prefix(event.tenant_id, event.job_id))
    if event.task_token:
        services.callbacks.fail(event.task_token, error.error, error.cause)
    return JobResult(job_id=event.job_id, status=JobStatusName.failed, error=error)


def _progress(services: Services, job: JobSpec, stage: str, percent: int | None = None, request: VideoRequest | None = None) -> None:
    """The job's stage and percent: to the jobs table and, when a local process claims the job's folder,
    to its progress.json too (status.json says only running until the end), for a server reading the
    folder, which has no jobs table of this run's to ask. Best effort, both."""
    percent = STAGE_PERCENT.get(stage, 0) if percent is None else percent
    report_progress(services.jobs, job, stage, percent, request)
    _note_progress(services, job, stage, percent)


def _note_progress(services: Services, job: JobSpec, stage: str, percent: int) -> None:
    """progress.json, in a folder a local process claims (see `_progress`)."""
    if services.store.in_use(job.prefix):
        try:
            put_json(services.store, job.key(PROGRESS_FILE), JobProgress(stage=stage, progress=percent).model_dump(mode="json"))
        except Exception:  # noqa: BLE001 - a progress note never fails a step
            logger.warning("progress not noted in the folder", exc_info=True, extra={"stage": stage})


def _media_progress(services: Services, job: JobSpec) -> None:
    """Images and voice clips landed so far, as a percent of the media stage."""
    if services.jobs is not None or services.store.in_use(job.prefix):
        done = len(services.store.list(job.key("images"))) + len(services.store.list(job.key("voice")))
        _progress(services, job, "media", media_percent(done, 2 * job.plan.segment_count))


def readable_cause(cause: str) -> str:
    """Lambda errors arrive as a JSON string with errorMessage; keep just the message."""
    try:
        import json

        parsed = json.loads(cause)
        if isinstance(parsed, dict) and "errorMessage" in parsed:
            return str(parsed["errorMessage"])
    except ValueError:
        pass
    return cause[:2000]


def read_status(services: Services, tenant_id: str, job_id: str) -> JobStatus:
    """What `write_status` last wrote for the job (BlobNotFoundError if nothing)."""
    return JobStatus.model_validate(get_json(services.store, f"{job_prefix(tenant_id, job_id)}/status.json"))


def read_progress(services: Services, tenant_id: str, job_id: str) -> JobProgress | None:
    """What `_progress` last noted in the job's folder, or None (nothing noted, or half a file)."""
    try:
        return JobProgress.model_validate(get_json(services.store, f"{job_prefix(tenant_id, job_id)}/{PROGRESS_FILE}"))
    except (BlobNotFoundError, ValidationError, ValueError):
        return None


"""The work of each state of the video state machine. Handlers parse their event into one of the
`...Input` models below, call one function here and return its result as JSON."""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path

from pydantic import Field

from faceless import journal
from faceless.agents import bible as bible_agent
from faceless.agents import context as context_agent
from faceless.agents import director, refine, storyteller
from faceless.billing.prices import estimate_cost
from faceless.bootstrap import Services
from faceless.errors import InvalidRequestError
from faceless.models import (
    Context,
    Contract,
    Direction,
    ImageAsset,
    JobError,
    JobInput,
    JobResult,
    JobSpec,
    JobStatus,
    JobStatusName,
    Metadata,
    MusicAsset,
    Outputs,
    Script,
    Segment,
    SegmentMedia,
    VisualBible,
    VoiceAsset,
)
from faceless.planning import make_plan
from faceless.providers.base import ImageRequest, SpeechRequest
from faceless.store import get_json, put_json

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


class FinalizeInput(Contract):
    job: JobSpec
    script: Script
    segments: list[Segment]
    media: list[SegmentMedia]
    outputs: Outputs


class FailureCause(Contract):
    Error: str = "States.TaskFailed"
    Cause: str = ""


class FailInput(Contract):
    job_id: str
    tenant_id: str = "local"
    job: JobSpec | None = None
    error: FailureCause = Field(default_factory=FailureCause)


# --------------------------------------------------------------------------- steps


def job_prefix(tenant_id: str, job_id: str) -> str:
    return f"jobs/{tenant_id}/{job_id}"


def write_status(services: Services, status: JobStatus) -> None:
    put_json(services.store, f"{job_prefix(status.tenant_id, status.job_id)}/status.json", status.model_dump(mode="json"))


def plan_job(event: JobInput, services: Services) -> PlanOutput:
    job = JobSpec(
        job_id=event.job_id,
        tenant_id=event.tenant_id,
        prefix=job_prefix(event.tenant_id, event.job_id),
        request=event.request,
        plan=make_plan(event.request, services.settings),
    )
    with journal.timed(services.store, job, "plan"):
        put_json(services.store, job.key("request.json"), event.request.model_dump(mode="json"))
        write_status(services, JobStatus(job_id=job.job_id, tenant_id=job.tenant_id, status=JobStatusName.running, stage="plan"))
        script = storyteller.script_from_user(job.request, job.plan) if job.request.script else None
    return PlanOutput(job=job, script=script)


def write_script(event: JobStepInput, services: Services) -> Script:
    with journal.timed(services.store, event.job, "script"):
        script, usages = storyteller.write_script(services.llm, event.job.request, event.job.plan)
        journal.record_usage(services.store, event.job, "storyteller", usages)
    return script


def write_bible(event: ScriptStepInput, services: Services) -> VisualBible:
    with journal.timed(services.store, event.job, "bible"):
        bible, usages = bible_agent.write_bible(services.llm, event.script, event.job.plan)
        journal.record_usage(services.store, event.job, "bible", usages)
    return bible


def analyse_context(event: ScriptStepInput, services: Services) -> Context:
    with journal.timed(services.store, event.job, "context"):
        context, usages = context_agent.analyse_context(services.llm, event.script, event.job.plan)
        journal.record_usage(services.store, event.job, "context", usages)
    return context


def direct(event: DirectInput, services: Services) -> Direction:
    with journal.timed(services.store, event.job, "direct"):
        segments, usages = director.direct(services.llm, event.script, event.job.plan, event.job.request, event.bible)
        journal.record_usage(services.store, event.job, "director", usages)
    return Direction(segments=segments)


def refine_segments(event: RefineInput, services: Services) -> Direction:
    with journal.timed(services.store, event.job, "refine"):
        segments, usages = refine.refine(
            services.llm, event.segments, event.context, event.bible, event.job.request, event.job.plan
        )
        journal.record_usage(services.store, event.job, "refine", usages)
    return Direction(segments=segments)


def image_key(job: JobSpec, index: int) -> str:
    return job.key("images", f"{index:02d}.png")


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
    return ImageAsset(
        index=segment.index, key=key, width=image.width, height=image.height, provider=image.provider, model=image.model
    )


def make_voice(event: SegmentStepInput, services: Services) -> VoiceAsset:
    job, segment = event.job, event.segment
    with journal.timed(services.store, job, "voices", str(segment.index)):
        voice = None if job.plan.voice == "default" else job.plan.voice
        speech = services.speech.synthesize(
            SpeechRequest(text=segment.text, language=job.request.language, voice=voice, rate=services.settings.tts_rate)
        )
        key = services.store.put_bytes(job.key("voice", f"{segment.index:02d}.wav"), speech.wav, "audio/wav")
    return VoiceAsset(
        index=segment.index,
        key=key,
        duration_seconds=speech.duration_seconds,
        words=speech.words,
        provider=speech.provider,
        characters=len(segment.text),
    )


def make_music(event: JobStepInput, services: Services) -> MusicAsset:
    job = event.job
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
    from faceless.media.assemble import AssemblyJob, AssemblySegment
    from faceless.media.assemble import assemble as render

    job, store = event.job, services.store
    with journal.timed(store, job, "assemble"):
        media = sorted(event.media, key=lambda m: m.voice.index)
        if len(media) != len(event.segments):
            raise InvalidRequestError(f"assembly got {len(media)} media for {len(event.segments)} segments")
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
                        )
                        for m in media
                    ],
                    music_path=store.local_path(event.music.key) if event.music.key else None,
                    width=job.plan.width,
                    height=job.plan.height,
                    caption_style=job.request.caption_style,
                    title=event.script.title,
                    workdir=Path(scratch),
                )
            )
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
                "title": event.script.title,
                "description": event.script.description,
                "hashtags": event.script.hashtags,
                "narration": event.script.narration,
                "source": event.script.source,
                "segments": [
                    {**s.model_dump(mode="json"), "start_seconds": round(start, 3)}
                    for s, start in zip(event.segments, result.segment_starts, strict=False)
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
        render_seconds=round(time.monotonic() - started, 3),
    )


def finalize(event: FinalizeInput, services: Services) -> JobResult:
    job, store = event.job, services.store
    with journal.timed(store, job, "finalize"):
        usages = journal.collect_usage(store, job)
        drawn = [m.image for m in event.media if m.image.reused_from is None]
        speech_chars: dict[str, int] = {}
        for m in event.media:
            speech_chars[m.voice.provider] = speech_chars.get(m.voice.provider, 0) + m.voice.characters
        cost = estimate_cost(usages, [i.model for i in drawn], speech_chars, event.outputs.render_seconds)
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
    write_status(
        services,
        JobStatus(job_id=job.job_id, tenant_id=job.tenant_id, status=JobStatusName.succeeded, stage="done", progress=100),
    )
    return JobResult(job_id=job.job_id, status=JobStatusName.succeeded, outputs=outputs, metadata_key=metadata_key, cost=cost)


def fail(event: FailInput, services: Services) -> JobResult:
    error = JobError(error=event.error.Error, cause=_readable_cause(event.error.Cause))
    write_status(
        services,
        JobStatus(job_id=event.job_id, tenant_id=event.tenant_id, status=JobStatusName.failed, stage="failed", error=error),
    )
    return JobResult(job_id=event.job_id, status=JobStatusName.failed, error=error)


def _readable_cause(cause: str) -> str:
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
    return JobStatus.model_validate(get_json(services.store, f"{job_prefix(tenant_id, job_id)}/status.json"))


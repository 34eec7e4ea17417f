"""Make one video locally: the video state machine in the embedded runner, outputs in a folder."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pydantic import ValidationError

from faceless.bootstrap import Services
from faceless.errors import BlobNotFoundError
from faceless.jobs import JobExistsError, JobRecord, iso_time, post_text, usage_from_metadata
from faceless.models import JobInput, JobResult, JobStatusName, Metadata, VideoRequest
from faceless.pipeline import job_prefix, mark_interrupted, read_progress, read_status
from faceless.runner.embedded import EmbeddedRunner, ExecutionResult
from faceless.store import get_json

VIDEO_MACHINE = "VideoStateMachine"
_UNFINISHED = frozenset({JobStatusName.queued, JobStatusName.running})


def new_job_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


@dataclass
class VideoRun:
    job_id: str
    tenant_id: str
    execution: ExecutionResult
    result: JobResult | None
    metadata: Metadata | None
    folder: str  # where a person finds the outputs

    @property
    def succeeded(self) -> bool:
        return self.execution.status == "SUCCEEDED" and self.result is not None and self.result.status == "succeeded"


def make_video(
    request: VideoRequest,
    runner: EmbeddedRunner,
    services: Services,
    job_id: str | None = None,
    tenant_id: str = "local",
    timeout_seconds: float = 3600,
) -> VideoRun:
    job_id = job_id or new_job_id()
    payload = JobInput(job_id=job_id, tenant_id=tenant_id, request=request).model_dump(mode="json")
    execution = runner.run(VIDEO_MACHINE, payload, name=job_id, timeout_seconds=timeout_seconds)
    result = JobResult.model_validate(execution.output) if execution.status == "SUCCEEDED" and execution.output else None
    metadata = None
    if result is not None and result.metadata_key:
        metadata = Metadata.model_validate(get_json(services.store, result.metadata_key))
    folder = services.store.describe(job_prefix(tenant_id, job_id))
    return VideoRun(job_id=job_id, tenant_id=tenant_id, execution=execution, result=result, metadata=metadata, folder=folder)


def record_interruption(services: Services, job_id: str, stage: str, percent: int, tenant_id: str = "local") -> str:
    """A run the user stopped (Ctrl-C): its status.json says failed, Interrupted, and where it had
    got to (as `pipeline.fail` writes a failure), instead of "running" forever; the files made so
    far stay. Returns the job folder."""
    services.store.hold_writes()  # a step still running must not write "running" over it
    mark_interrupted(services, job_id, tenant_id, f"stopped by the user while {stage} ({percent}%)", percent)
    return services.store.describe(job_prefix(tenant_id, job_id))


# --------------------------------------------------------------------------- the folder's videos, for a server


def recorded_video(services: Services, tenant_id: str, video_id: str) -> JobRecord | None:
    """What the blob folder says about a video (its request, status, timings and, once made, metadata)
    as a jobs-table record, or None if it has no request or status there. A video the folder says is
    still being made is either being made by another live process (`faceless make`, `batch`, another
    server: it claims the folder), and stays running, or was abandoned by one that stopped: it is
    marked failed, Interrupted (its status.json too)."""
    prefix = job_prefix(tenant_id, video_id)
    store = services.store
    try:
        status = read_status(services, tenant_id, video_id)
        being_made = status.status in _UNFINISHED and store.in_use(prefix)
        if status.status in _UNFINISHED and not being_made:
            # a run writes its last status before it lets go of the folder: read again, now that it has
            status = read_status(services, tenant_id, video_id)
        if status.status in _UNFINISHED:  # status.json says no more till the end: progress.json does
            noted = read_progress(services, tenant_id, video_id)
            if noted is not None and noted.progress >= status.progress:
                status = status.model_copy(update={"stage": noted.stage, "progress": noted.progress})
        request = VideoRequest.model_validate(get_json(store, f"{prefix}/request.json"))
        timings = [get_json(store, key) for key in store.list(f"{prefix}/journal/timings")]
    except (BlobNotFoundError, ValidationError, ValueError):
        return None
    started = [t["started"] for t in timings if isinstance(t, dict) and isinstance(t.get("started"), int | float)]
    ended = [t["ended"] for t in timings if isinstance(t, dict) and isinstance(t.get("ended"), int | float)]
    record = JobRecord(
        tenant_id=tenant_id, video_id=video_id, status=status.status, stage=status.stage, progress=status.progress,
        request=request, error=status.error,
    )  # fmt: skip
    if started:
        record.created_at = iso_time(min(started))
        record.updated_at = iso_time(max(ended or started))
    if status.status is JobStatusName.succeeded:
        try:
            metadata = Metadata.model_validate(get_json(store, f"{prefix}/metadata.json"))
        except (BlobNotFoundError, ValidationError, ValueError):
            return None
        post = post_text(metadata)
        record.outputs, record.usage, record.cost_usd = metadata.outputs, usage_from_metadata(metadata), metadata.cost.total_usd
        record.title, record.description, record.hashtags = post.title, post.description, post.hashtags
    elif status.status in _UNFINISHED and not being_made:
        cause = f"the process making it stopped before it was made ({status.stage}, {status.progress}%)"
        record.error = mark_interrupted(services, video_id, tenant_id, cause, status.progress)
        record.status, record.stage = JobStatusName.failed, "failed"
    return record


class FolderWatch:
    """A server's jobs table kept in step with its blob folder, which other processes write to too: the
    table starts empty, the folder does not (an earlier server's videos, `faceless make`'s, `batch`'s),
    and a `faceless make` may start beside the server at any time."""

    def __init__(self, services: Services, tenant_id: str) -> None:
        self.services, self.tenant_id = services, tenant_id
        self.known: set[str] = set()  # video ids in the table (put there by a scan, or the server's own)
        self.being_made: list[str] = []  # of the ones scans put there, those another live process is making

    def scan(self) -> int:
        """Put the folder's videos that are not yet in the table there, so that GET /videos and
        /videos/{id} answer for them; returns how many. The ones another process is still making are
        followed (`follow`). A folder without its request and status yet is read again next time."""
        services = self.services
        if services.jobs is None:
            return 0
        added = 0
        for video_id in services.store.folders(job_prefix(self.tenant_id, "")):
            if video_id in self.known:
                continue
            if services.jobs.get(self.tenant_id, video_id) is not None:
                # the server's own, made through its API: never read as another's (on a folder that cannot
                # be locked, its running video would look abandoned and be marked Interrupted)
                self.known.add(video_id)
                continue
            record = recorded_video(services, self.tenant_id, video_id)
            if record is None:
                continue
            self.known.add(video_id)
            try:
                services.jobs.create(record)
            except JobExistsError:  # made through the API between the two looks
                continue
            added += 1
            if record.status in _UNFINISHED:
                self.being_made.append(video_id)
        return added

    def follow(self) -> None:
        """Bring the records of the videos other processes are making up to date (`follow_video`)."""
        self.being_made = [v for v in self.being_made if not follow_video(self.services, self.tenant_id, v)]


def follow_video(services: Services, tenant_id: str, video_id: str) -> bool:
    """Bring the jobs table's record of a video another process is making up to date with its folder
    (stage and percent; outputs once made; the error if it failed or its process died). True once it
    has ended, made or not."""
    record = recorded_video(services, tenant_id, video_id)
    if record is None or services.jobs is None:
        return True
    if record.status is JobStatusName.succeeded and record.usage is not None:
        cost = record.cost_usd or 0.0
        services.jobs.succeed(tenant_id, video_id, record.outputs, record.usage, cost, post_text(record))
        return True
    if record.status is JobStatusName.failed and record.error is not None:
        services.jobs.fail(tenant_id, video_id, record.error)
        return True
    services.jobs.progress(tenant_id, video_id, record.stage, record.progress)
    return False

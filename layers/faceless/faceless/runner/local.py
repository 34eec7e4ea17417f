"""Make one video locally: the video state machine in the embedded runner, outputs in a folder."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from faceless.bootstrap import Services
from faceless.models import JobInput, JobResult, Metadata, VideoRequest
from faceless.pipeline import job_prefix, mark_interrupted
from faceless.runner.embedded import EmbeddedRunner, ExecutionResult
from faceless.store import get_json

VIDEO_MACHINE = "VideoStateMachine"


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
    mark_interrupted(services, job_id, tenant_id, stage, percent)
    return services.store.describe(job_prefix(tenant_id, job_id))

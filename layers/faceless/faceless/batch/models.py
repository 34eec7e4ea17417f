"""Contracts of the batch machine: its input, the item list, each row's outcome and the report."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from faceless.models import Contract, VideoRequest


class BatchObject(Contract):
    """The uploaded manifest, as the S3 event names it: the batch machine's input."""

    bucket: str = Field(min_length=3, max_length=63)
    key: str = Field(min_length=1, max_length=1024)
    etag: str = Field(min_length=1, max_length=128)


class S3Location(Contract):
    bucket: str
    key: str


class BatchSpec(Contract):
    """Everything the later states need to know about one batch (decided once, by Ingest)."""

    batch_id: str  # the batch execution's name
    name: str  # the manifest's path under batches/, without extension: reports/<name>.json
    tenant_id: str
    manifest: BatchObject
    report_key: str  # in the blob store


class BatchCounts(Contract):
    rows: int = Field(ge=0)
    valid: int = Field(ge=0)
    invalid: int = Field(ge=0)


class IngestInput(Contract):
    object: BatchObject
    batch_id: str | None = None  # $$.Execution.Name


class IngestOutput(Contract):
    batch: BatchSpec
    items: S3Location  # the Distributed Map's ItemReader reads this JSON array of BatchItem
    counts: BatchCounts


class BatchItem(Contract):
    """One valid row: the Distributed Map's item, and what the start function turns into a video."""

    row: int = Field(ge=1)
    video_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")
    tenant_id: str
    request: VideoRequest


class StartVideoInput(Contract):
    task_token: str = Field(min_length=1, max_length=2048)
    item: BatchItem
    state_machine_arn: str  # the video machine (a DefinitionSubstitution)


class StartVideoOutput(Contract):
    video_id: str
    started: bool  # False: the execution already existed (a re-delivered event); it was answered or retried


class FieldProblem(Contract):
    field: str
    message: str


class RowStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"
    invalid = "invalid"


class RowOutcome(Contract):
    """What the Distributed Map says about one valid row (kept tiny: the Map's output has a size limit)."""

    row: int
    video_id: str
    status: RowStatus
    error: str | None = None  # the error name; the report reads the cause from the video's status


class ReportRow(Contract):
    row: int
    status: RowStatus
    video_id: str | None = None
    outputs: dict[str, str] = Field(default_factory=dict)  # name -> where it is (s3:// URL or local path)
    error: str | None = None
    problems: list[FieldProblem] = Field(default_factory=list)  # why an invalid row was rejected
    # a made video's title, description and hashtags, to post it with (as in its metadata.json)
    title: str | None = None
    description: str | None = None
    hashtags: list[str] = Field(default_factory=list)


class BatchStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"  # every row made its video
    partial = "partial"  # some rows made videos, some were invalid or failed
    failed = "failed"  # no video was made (or the manifest could not be read)


class BatchReport(Contract):
    batch_id: str
    name: str
    manifest: str  # s3://bucket/key
    etag: str
    tenant_id: str
    status: BatchStatus
    rows: int = 0
    succeeded: int = 0
    failed: int = 0
    invalid: int = 0
    error: str | None = None
    results: list[ReportRow] = Field(default_factory=list)
    updated_at: str = ""


class FailureCause(Contract):
    Error: str = "States.TaskFailed"
    Cause: str = ""


class ReportInput(Contract):
    """Either the normal end (batch + rows) or the failure path (the execution input + the error)."""

    batch: BatchSpec | None = None
    rows: list[RowOutcome] | None = None
    object: BatchObject | None = None
    batch_id: str | None = None  # $$.Execution.Name
    error: FailureCause | None = None


class BatchSummary(Contract):
    """The batch execution's output."""

    batch_id: str
    status: BatchStatus
    report_key: str
    report: str  # where a person finds it
    rows: int
    succeeded: int
    failed: int
    invalid: int


class TriggerOutput(Contract):
    started: bool  # False: not a manifest, or this object's batch was already started
    execution_arn: str | None = None
    reason: str = ""

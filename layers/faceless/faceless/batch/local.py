"""`faceless batch manifest.csv|json`: the batch state machine on this machine. The manifest is uploaded
to a moto S3 bucket (the Distributed Map reads its item list from S3, as in the cloud), the trigger starts
the batch machine in the embedded runner, the videos and the report land in the local blob-store folder."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from faceless.batch import naming
from faceless.batch.clients import BatchClients, clients, use_clients
from faceless.batch.models import BatchObject, BatchReport, ReportRow, RowOutcome, RowStatus
from faceless.batch.steps import batch_spec, final_status, start_batch, video_row, write_report
from faceless.bootstrap import Services
from faceless.errors import BlobNotFoundError, InvalidManifestError
from faceless.models import JobStatus, JobStatusName
from faceless.pipeline import mark_interrupted, read_status
from faceless.runner.embedded import EmbeddedRunner, ExecutionResult, Invocation
from faceless.runner.progress import ProgressTracker, Snapshot
from faceless.store import get_json

LOCAL_BUCKET = "faceless-local"
BATCH_MACHINE = "BatchStateMachine"


@dataclass
class BatchRun:
    execution: ExecutionResult
    report: BatchReport | None
    report_path: str


def upload_manifest(path: Path) -> BatchObject:
    """Inside the runner's moto mock: the manifest at batches/<file name> of the local bucket."""
    key = naming.PREFIX + path.name
    if naming.manifest_format(key) is None:
        raise InvalidManifestError(f"{path.name}: a manifest is a .csv (with a header row) or a .json array")
    use_clients(None)  # built inside this mock
    aws: BatchClients = clients()
    aws.s3.create_bucket(Bucket=LOCAL_BUCKET)
    etag = aws.s3.put_object(Bucket=LOCAL_BUCKET, Key=key, Body=path.read_bytes())["ETag"]
    return BatchObject(bucket=LOCAL_BUCKET, key=key, etag=etag)


def run_manifest(manifest: BatchObject, runner: EmbeddedRunner, services: Services, max_concurrency: int | None = None,
                 timeout_seconds: float = 24 * 3600) -> BatchRun:
    """Runs inside the runner's moto mock: start the batch of an uploaded manifest, wait, read the report.
    `max_concurrency` overrides the template's BatchMaxConcurrency (videos made at once)."""
    aws: BatchClients = clients()
    extra = {"BatchMaxConcurrency": str(max_concurrency)} if max_concurrency else None
    machine = runner.state_machine_arn(BATCH_MACHINE, extra_substitutions=extra)
    started = start_batch(manifest, aws, machine)
    execution = runner.wait(started.execution_arn or "", timeout_seconds=timeout_seconds)
    report_key = naming.report_key(manifest.key)
    report = BatchReport.model_validate(get_json(services.store, report_key)) if services.store.exists(report_key) else None
    return BatchRun(execution=execution, report=report, report_path=services.store.describe(report_key))


def _job_id(event: Any) -> str | None:
    """The video a Lambda call is for: Plan's input names it, the later steps carry it in `job`."""
    if not isinstance(event, dict):
        return None
    job = event.get("job")
    found = event.get("job_id") or (job.get("job_id") if isinstance(job, dict) else None)
    return found if isinstance(found, str) else None


class BatchProgress:
    """The runner's listener for a batch: a line as each video starts and ends, and where each video
    being made has got to (a ProgressTracker each), for the report of an interrupted batch."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._videos: dict[str, ProgressTracker] = {}

    def __call__(self, phase: str, invocation: Invocation) -> None:
        job_id = _job_id(invocation.event)
        if job_id is None:
            return
        with self._lock:
            tracker = self._videos.get(job_id)
            if tracker is None:
                tracker = self._videos[job_id] = ProgressTracker()
                self._say(f"  video {job_id}: started")
        tracker(phase, invocation)
        if phase == "end" and invocation.function in ("FinalizeFunction", "FailFunction") and not invocation.error:
            with self._lock:
                self._say(f"  video {job_id}: {(invocation.result or {}).get('status', '?')}")

    def _say(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()

    def reached(self, job_id: str) -> Snapshot | None:
        """Where the video has got to, or None if it has not started."""
        with self._lock:
            tracker = self._videos.get(job_id)
        return tracker.snapshot() if tracker is not None else None


def record_batch_interruption(manifest: BatchObject, services: Services, progress: BatchProgress) -> BatchReport | None:
    """The report of a batch the user stopped (Ctrl-C): each video made, or failed, as the batch's Report
    step writes it; a video being made is failed, Interrupted, where it had got to (its status.json
    too, as for `faceless make`); a row not yet started stays pending. None if the manifest had not
    been read yet (there is no report to complete)."""
    services.store.hold_writes()  # the steps still running must not write over what is recorded here
    report_key = naming.report_key(manifest.key)
    try:
        first = BatchReport.model_validate(get_json(services.store, report_key))
    except BlobNotFoundError:
        return None
    rows: list[ReportRow] = []
    for row in first.results:
        if row.status is not RowStatus.pending or row.video_id is None:
            rows.append(row)
            continue
        try:
            status: JobStatus | None = read_status(services, first.tenant_id, row.video_id)
        except BlobNotFoundError:
            status = None
        if status is not None and status.status in (JobStatusName.succeeded, JobStatusName.failed):
            error = status.error.error if status.error else None
            outcome = RowOutcome(row=row.row, video_id=row.video_id, status=RowStatus(status.status.value), error=error)
            rows.append(video_row(services, first.tenant_id, outcome))
            continue
        reached = progress.reached(row.video_id)
        if status is None and reached is None:
            rows.append(row.model_copy(update={"error": "not started: the batch was interrupted"}))
            continue
        where = reached or Snapshot("being made", status.progress if status else 0)
        cause = f"stopped by the user while {where.stage} ({where.percent}%)"
        error = mark_interrupted(services, row.video_id, first.tenant_id, cause, where.percent)
        rows.append(row.model_copy(update={"status": RowStatus.failed, "error": f"{error.error}: {error.cause}"}))
    spec = batch_spec(manifest, first.batch_id, strict=False)
    return write_report(services, spec, final_status(rows), rows, error="Interrupted: stopped by the user")


def render_report(report: BatchReport) -> str:
    """A table a person reads: one line per row, then where each video is."""
    lines = [f"{'row':>4}  {'status':<10} {'video':<32} detail"]
    for row in report.results:
        if row.status == RowStatus.invalid:
            detail = "; ".join(f"{p.field}: {p.message}" for p in row.problems)
        elif row.status == RowStatus.succeeded:
            detail = row.outputs.get("video", "")
        else:  # failed, or pending: not started
            detail = row.error or ""
        lines.append(f"{row.row:>4}  {row.status.value:<10} {row.video_id or '-':<32} {detail}")
    lines.append("")
    pending = sum(1 for row in report.results if row.status is RowStatus.pending)
    counts = f"{report.invalid} invalid, {report.failed} failed" + (f", {pending} not started" if pending else "")
    lines.append(f"{report.succeeded} of {report.rows} rows made a video ({counts}): {report.status.value}")
    if report.error:
        lines.append(f"error: {report.error}")
    return "\n".join(lines) + "\n"

"""`faceless batch manifest.csv|json`: the batch state machine on this machine. The manifest is uploaded
to a moto S3 bucket (the Distributed Map reads its item list from S3, as in the cloud), the trigger starts
the batch machine in the embedded runner, the videos and the report land in the local blob-store folder."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from faceless.batch import naming
from faceless.batch.clients import BatchClients, clients, use_clients
from faceless.batch.models import BatchObject, BatchReport, RowStatus
from faceless.batch.steps import start_batch
from faceless.bootstrap import Services
from faceless.errors import InvalidManifestError
from faceless.runner.embedded import EmbeddedRunner, ExecutionResult, Invocation, Listener
from faceless.store import get_json

LOCAL_BUCKET = "faceless-local"
BATCH_MACHINE = "BatchStateMachine"


@dataclass
class BatchRun:
    execution: ExecutionResult
    report: BatchReport | None
    report_path: str


def run_manifest(path: Path, runner: EmbeddedRunner, services: Services, max_concurrency: int | None = None,
                 timeout_seconds: float = 24 * 3600) -> BatchRun:
    """Runs inside the runner's moto mock: put the manifest at batches/<file name>, start, wait, read the report.
    `max_concurrency` overrides the template's BatchMaxConcurrency (videos made at once)."""
    key = naming.PREFIX + path.name
    if naming.manifest_format(key) is None:
        raise InvalidManifestError(f"{path.name}: a manifest is a .csv (with a header row) or a .json array")
    use_clients(None)  # built inside this mock
    aws: BatchClients = clients()
    aws.s3.create_bucket(Bucket=LOCAL_BUCKET)
    etag = aws.s3.put_object(Bucket=LOCAL_BUCKET, Key=key, Body=path.read_bytes())["ETag"]
    extra = {"BatchMaxConcurrency": str(max_concurrency)} if max_concurrency else None
    machine = runner.state_machine_arn(BATCH_MACHINE, extra_substitutions=extra)
    started = start_batch(BatchObject(bucket=LOCAL_BUCKET, key=key, etag=etag), aws, machine)
    execution = runner.wait(started.execution_arn or "", timeout_seconds=timeout_seconds)
    report_key = naming.report_key(key)
    report = BatchReport.model_validate(get_json(services.store, report_key)) if services.store.exists(report_key) else None
    return BatchRun(execution=execution, report=report, report_path=services.store.describe(report_key))


def progress_printer(stream: TextIO) -> Listener:
    """A runner listener printing one line per video as it ends (the batch's progress)."""
    lock = threading.Lock()

    def listener(phase: str, invocation: Invocation) -> None:
        if phase != "end" or invocation.function not in ("FinalizeFunction", "FailFunction") or invocation.error:
            return
        result = invocation.result or {}
        with lock:
            stream.write(f"  video {result.get('job_id', '?')}: {result.get('status', '?')}\n")
            stream.flush()

    return listener


def render_report(report: BatchReport) -> str:
    """A table a person reads: one line per row, then where each video is."""
    lines = [f"{'row':>4}  {'status':<10} {'video':<32} detail"]
    for row in report.results:
        if row.status == RowStatus.invalid:
            detail = "; ".join(f"{p.field}: {p.message}" for p in row.problems)
        elif row.status == RowStatus.succeeded:
            detail = row.outputs.get("video", "")
        else:
            detail = row.error or ""
        lines.append(f"{row.row:>4}  {row.status.value:<10} {row.video_id or '-':<32} {detail}")
    lines.append("")
    lines.append(f"{report.succeeded} of {report.rows} rows made a video ({report.invalid} invalid, {report.failed} failed): {report.status.value}")
    if report.error:
        lines.append(f"error: {report.error}")
    return "\n".join(lines) + "\n"

"""The work of the batch machine's states (and of the function the S3 event starts). Handlers parse
their event into one of the models in `faceless.batch.models`, call one function here and return it."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from faceless.batch import naming
from faceless.batch.clients import BatchClients
from faceless.batch.manifest import parse_manifest
from faceless.batch.models import (
    BatchCounts,
    BatchItem,
    BatchObject,
    BatchReport,
    BatchSpec,
    BatchStatus,
    BatchSummary,
    IngestInput,
    IngestOutput,
    ReportInput,
    ReportRow,
    RowOutcome,
    RowStatus,
    S3Location,
    StartVideoInput,
    StartVideoOutput,
    TriggerOutput,
)
from faceless.bootstrap import Services
from faceless.errors import BlobNotFoundError, InvalidManifestError, VideoStillRunningError
from faceless.models import JobInput
from faceless.observability import logger
from faceless.pipeline import job_prefix, readable_cause
from faceless.store import get_json, put_json

# --------------------------------------------------------------------------- the S3 event


def start_batch(manifest: BatchObject, clients: BatchClients, state_machine_arn: str) -> TriggerOutput:
    """Start the batch machine for an uploaded manifest, under a name derived from (bucket, key, ETag).

    ExecutionAlreadyExists means this object's batch was already started (a re-delivered event): that is
    the idempotency working, not an error.
    """
    if naming.manifest_format(manifest.key) is None:
        return TriggerOutput(started=False, reason=f"{manifest.key} is not a manifest (batches/<name>.csv|json)")
    name = naming.batch_execution_name(manifest.bucket, manifest.key, manifest.etag)
    try:
        arn = clients.sfn.start_execution(
            stateMachineArn=state_machine_arn,
            name=name,
            input=json.dumps({"bucket": manifest.bucket, "key": manifest.key, "etag": naming.normalise_etag(manifest.etag)}),
        )["executionArn"]
    except clients.sfn.exceptions.ExecutionAlreadyExists:
        logger.info("batch already started", extra={"batch_id": name, "key": manifest.key})
        return TriggerOutput(started=False, execution_arn=naming.execution_arn(state_machine_arn, name), reason="already started")
    logger.info("batch started", extra={"batch_id": name, "key": manifest.key})
    return TriggerOutput(started=True, execution_arn=arn)


# --------------------------------------------------------------------------- Ingest


def batch_spec(manifest: BatchObject, batch_id: str | None = None, strict: bool = True) -> BatchSpec:
    try:
        tenant_id = naming.tenant_of(manifest.key)
    except InvalidManifestError:
        if strict:
            raise
        tenant_id = naming.DEFAULT_TENANT  # the failure report of a misplaced manifest still gets written
    return BatchSpec(
        batch_id=batch_id or naming.batch_execution_name(manifest.bucket, manifest.key, manifest.etag),
        name=naming.manifest_name(manifest.key),
        tenant_id=tenant_id,
        manifest=manifest,
        report_key=naming.report_key(manifest.key),
    )


def _read_manifest(manifest: BatchObject, s3: Any) -> bytes:
    from botocore.exceptions import ClientError

    try:
        # IfMatch: read exactly the bytes the event announced; a newer upload is its own batch
        body = s3.get_object(Bucket=manifest.bucket, Key=manifest.key, IfMatch=f'"{naming.normalise_etag(manifest.etag)}"')
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("PreconditionFailed", "412"):
            raise InvalidManifestError(f"{manifest.key} changed since this upload; the newer upload is its own batch") from None
        if code in ("NoSuchKey", "404"):
            raise InvalidManifestError(f"{manifest.key} no longer exists") from None
        raise
    return body["Body"].read()


def ingest(event: IngestInput, clients: BatchClients, services: Services) -> IngestOutput:
    """Validate every row; write the valid ones as the Distributed Map's item list (S3, JSON array) and a
    first report naming every invalid row (field, message) and every pending one."""
    manifest, batch_id = event.object, event.batch_id
    kind = naming.manifest_format(manifest.key)
    if kind is None:
        raise InvalidManifestError(f"{manifest.key} is not a manifest (batches/<name>.csv|json)")
    spec = batch_spec(manifest, batch_id)
    parsed = parse_manifest(_read_manifest(manifest, clients.s3), kind)
    items = [
        BatchItem(row=row.row, video_id=naming.video_id(manifest.bucket, manifest.key, manifest.etag, row.row),
                  tenant_id=spec.tenant_id, request=row.request)
        for row in parsed.valid
    ]
    location = S3Location(bucket=manifest.bucket, key=naming.items_key(spec.batch_id))
    clients.s3.put_object(
        Bucket=location.bucket, Key=location.key, ContentType="application/json",
        Body=json.dumps([item.model_dump(mode="json") for item in items]).encode(),
    )
    results = [ReportRow(row=i.row, status=RowStatus.pending, video_id=i.video_id) for i in items]
    results += [ReportRow(row=r.row, status=RowStatus.invalid, problems=r.problems) for r in parsed.invalid]
    write_report(services, spec, BatchStatus.running, results)
    logger.info("batch ingested", extra={"batch_id": spec.batch_id, "valid": len(items), "invalid": len(parsed.invalid)})
    return IngestOutput(batch=spec, items=location, counts=BatchCounts(rows=parsed.rows, valid=len(items), invalid=len(parsed.invalid)))


# --------------------------------------------------------------------------- one row's video


def start_video(event: StartVideoInput, clients: BatchClients) -> StartVideoOutput:
    """Start the row's video execution with the task token in its input; its Finalize or RecordFailure
    answers the token. If the execution already exists (the batch ran again for the same object), answer
    the token from it instead of starting anything: finished -> its result, running -> retry later."""
    item = event.item
    payload = JobInput(job_id=item.video_id, tenant_id=item.tenant_id, request=item.request, task_token=event.task_token)
    try:
        clients.sfn.start_execution(stateMachineArn=event.state_machine_arn, name=item.video_id, input=payload.model_dump_json())
        return StartVideoOutput(video_id=item.video_id, started=True)
    except clients.sfn.exceptions.ExecutionAlreadyExists:
        pass
    described = clients.sfn.describe_execution(executionArn=naming.execution_arn(event.state_machine_arn, item.video_id))
    status = described["status"]
    if status == "RUNNING":
        raise VideoStillRunningError(f"video {item.video_id} is already being made; waiting for it")
    if status == "SUCCEEDED":
        clients.callbacks.succeed(event.task_token, json.loads(described.get("output") or "{}"))
    else:
        clients.callbacks.fail(event.task_token, described.get("error") or f"Video{status.title().replace('_', '')}",
                               described.get("cause") or f"the video execution ended {status}")
    return StartVideoOutput(video_id=item.video_id, started=False)


# --------------------------------------------------------------------------- the report


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def write_report(services: Services, spec: BatchSpec, status: BatchStatus, results: list[ReportRow], error: str | None = None) -> BatchReport:
    results = sorted(results, key=lambda r: r.row)
    count = lambda wanted: sum(1 for r in results if r.status == wanted)  # noqa: E731
    report = BatchReport(
        batch_id=spec.batch_id, name=spec.name, manifest=f"s3://{spec.manifest.bucket}/{spec.manifest.key}",
        etag=naming.normalise_etag(spec.manifest.etag), tenant_id=spec.tenant_id, status=status, rows=len(results),
        succeeded=count(RowStatus.succeeded), failed=count(RowStatus.failed), invalid=count(RowStatus.invalid),
        error=error, results=results, updated_at=_now(),
    )
    put_json(services.store, spec.report_key, report.model_dump(mode="json"))
    return report


def video_row(services: Services, tenant_id: str, outcome: RowOutcome) -> ReportRow:
    """The row's outputs (succeeded) or its error and cause (failed), read from the video's own records."""
    row = ReportRow(row=outcome.row, status=outcome.status, video_id=outcome.video_id, error=outcome.error)
    prefix = job_prefix(tenant_id, outcome.video_id)
    try:
        if outcome.status == RowStatus.succeeded:
            metadata = get_json(services.store, f"{prefix}/metadata.json")
            row.outputs = {name: services.store.describe(key) for name, key in metadata.get("outputs", {}).items()}
            row.title, row.description = metadata.get("title"), metadata.get("description")
            row.hashtags = list(metadata.get("hashtags") or [])
        else:
            error = (get_json(services.store, f"{prefix}/status.json").get("error") or {})
            if error.get("error"):
                row.error = f"{error['error']}: {error.get('cause', '')}".rstrip(": ")
    except BlobNotFoundError:
        pass  # the video never started (e.g. the batch timed out before it): the error name is what we know
    return row


def final_status(report_rows: list[ReportRow]) -> BatchStatus:
    made = sum(1 for r in report_rows if r.status == RowStatus.succeeded)
    if made == len(report_rows):
        return BatchStatus.succeeded
    return BatchStatus.partial if made else BatchStatus.failed


def report(event: ReportInput, services: Services) -> BatchSummary:
    """Write reports/<name>.json: every row's outcome (video id, status, outputs or error; invalid rows
    with each field's problem). On the failure path, the first report (if Ingest wrote one) is kept and
    the pending rows are marked failed with the batch's error."""
    if event.batch is not None and event.rows is not None and event.error is None:
        spec = event.batch
        first = BatchReport.model_validate(get_json(services.store, spec.report_key))
        with ThreadPoolExecutor(max_workers=16) as pool:
            videos = list(pool.map(lambda o: video_row(services, spec.tenant_id, o), event.rows))
        invalid = [r for r in first.results if r.status == RowStatus.invalid]
        final = write_report(services, spec, final_status(videos + invalid), videos + invalid)
    else:
        manifest = event.object or (event.batch.manifest if event.batch else None)
        if manifest is None:
            raise InvalidManifestError("the report needs the batch or the manifest object")
        spec = event.batch or batch_spec(manifest, event.batch_id, strict=False)
        cause = event.error or None
        message = f"{cause.Error}: {readable_cause(cause.Cause)}" if cause else "the batch failed"
        try:
            rows = BatchReport.model_validate(get_json(services.store, spec.report_key)).results
        except BlobNotFoundError:
            rows = []
        rows = [r.model_copy(update={"status": RowStatus.failed, "error": message}) if r.status == RowStatus.pending else r for r in rows]
        final = write_report(services, spec, BatchStatus.failed, rows, error=message)
    return BatchSummary(batch_id=final.batch_id, status=final.status, report_key=spec.report_key,
                        report=services.store.describe(spec.report_key), rows=final.rows,
                        succeeded=final.succeeded, failed=final.failed, invalid=final.invalid)

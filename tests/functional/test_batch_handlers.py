"""The batch handlers called as Lambda calls them, against moto (S3, Step Functions), and the video
machine's Finalize / Fail answering a batch row's task token."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from faceless.batch import naming
from faceless.batch.callbacks import StepFunctionsCallbacks
from faceless.batch.clients import BatchClients, use_clients
from faceless.errors import InvalidManifestError, VideoStillRunningError
from faceless.models import JobInput
from faceless.runner.embedded import EmbeddedRunner, LambdaContext
from faceless.runner.project import Project

ROOT = Path(__file__).resolve().parents[2]
PROJECT = Project.load(ROOT)
BUCKET = "faceless-media"
VIDEO_EVENTS = ROOT / "tests" / "events" / "video"


class RecordedCallbacks:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def succeed(self, token, output):
        self.calls.append(("succeed", token, output))

    def fail(self, token, error, cause):
        self.calls.append(("fail", token, error, cause))


def invoke(function: str, payload: dict) -> dict:
    handler = getattr(EmbeddedRunner._load(PROJECT.functions[function]), "lambda_handler")
    result = handler(payload, LambdaContext(function_name=function, invoked_function_arn=PROJECT.functions[function].arn))
    json.dumps(result)
    return result


@pytest.fixture
def aws(services):
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        recorded = RecordedCallbacks()
        clients = BatchClients(s3=boto3.client("s3"), sfn=boto3.client("stepfunctions"), callbacks=recorded)
        clients.s3.create_bucket(Bucket=BUCKET)
        use_clients(clients)
        yield clients
        use_clients(None)


def machine(sfn, name: str, definition: dict) -> str:
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]


def wait(sfn, arn: str) -> dict:
    for _ in range(200):
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.02)
    raise AssertionError("the execution did not end")


def start_event(token: str, arn: str, row: int = 1) -> dict:
    return {"task_token": token, "state_machine_arn": arn,
            "item": {"row": row, "video_id": f"june-r{row}-0123456789ab", "tenant_id": "batch", "request": {"topic": "How tides work"}}}


# --------------------------------------------------------------------------- BatchIngest


def test_ingest_writes_the_item_list_and_a_first_report(aws, services):
    # GIVEN a manifest in S3 with a good and a bad row
    key = "batches/june.csv"
    etag = aws.s3.put_object(Bucket=BUCKET, Key=key, Body=b"topic,duration_seconds\nHow tides work,15\nHi,15\n")["ETag"]

    # WHEN the Ingest handler runs (as the batch machine calls it)
    out = invoke("BatchIngestFunction", {"object": {"bucket": BUCKET, "key": key, "etag": etag.strip('"')}, "batch_id": "june-run"})

    # THEN the items list (for the Distributed Map) holds exactly the valid row, named from bucket, key, ETag, row
    assert out["counts"] == {"rows": 2, "valid": 1, "invalid": 1}
    assert out["items"] == {"bucket": BUCKET, "key": "work/batches/june-run/items.json"}
    items = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=out["items"]["key"])["Body"].read())
    assert [(i["row"], i["video_id"], i["tenant_id"]) for i in items] == [(1, naming.video_id(BUCKET, key, etag, 1), "batch")]
    assert items[0]["request"]["topic"] == "How tides work"
    # AND the first report names the invalid row and why, and the pending one
    report = json.loads(services.store.get_bytes("reports/june.json"))
    assert report["status"] == "running"
    assert [(r["row"], r["status"]) for r in report["results"]] == [(1, "pending"), (2, "invalid")]
    assert report["results"][1]["problems"][0]["field"] == "topic"


def test_ingest_refuses_a_manifest_changed_since_its_event(aws, services):
    # GIVEN an upload whose event is late: the object was overwritten since
    key = "batches/june.csv"
    etag = aws.s3.put_object(Bucket=BUCKET, Key=key, Body=b"topic\nHow tides work\n")["ETag"]
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=b"topic\nHow bees dance\n")
    # WHEN / THEN Ingest reads only the announced bytes: the newer upload is its own batch
    with pytest.raises(InvalidManifestError, match="changed since this upload"):
        invoke("BatchIngestFunction", {"object": {"bucket": BUCKET, "key": key, "etag": etag}})


# --------------------------------------------------------------------------- BatchStart


def test_start_puts_the_task_token_in_the_video_executions_input(aws):
    # GIVEN a video machine
    video = machine(aws.sfn, "Video", {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})

    # WHEN BatchStart runs for a row
    out = invoke("BatchStartFunction", start_event("token-1", video))

    # THEN one execution, named after the row's video id, whose input is a JobInput carrying the token
    assert out == {"video_id": "june-r1-0123456789ab", "started": True}
    execution = aws.sfn.describe_execution(executionArn=naming.execution_arn(video, "june-r1-0123456789ab"))
    job = JobInput.model_validate_json(execution["input"])
    assert (job.job_id, job.tenant_id, job.task_token, job.request.topic) == ("june-r1-0123456789ab", "batch", "token-1", "How tides work")
    assert aws.callbacks.calls == []


def test_start_answers_from_an_execution_that_already_ended(aws):
    # GIVEN the row's video already made (an earlier run of the same batch)
    video = machine(aws.sfn, "Video", {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"status": "succeeded"}, "End": True}}})
    invoke("BatchStartFunction", start_event("old-token", video))
    wait(aws.sfn, naming.execution_arn(video, "june-r1-0123456789ab"))

    # WHEN the batch runs again and BatchStart gets a new token for that row
    out = invoke("BatchStartFunction", start_event("new-token", video))

    # THEN nothing starts; the new token is answered with the existing result
    assert out["started"] is False
    assert len(aws.sfn.list_executions(stateMachineArn=video)["executions"]) == 1
    assert aws.callbacks.calls == [("succeed", "new-token", {"status": "succeeded"})]


def test_start_answers_a_failure_from_an_execution_that_failed(aws):
    video = machine(aws.sfn, "Video", {"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "ProviderRejectedError", "Cause": "content policy"}}})
    invoke("BatchStartFunction", start_event("old", video))
    wait(aws.sfn, naming.execution_arn(video, "june-r1-0123456789ab"))
    invoke("BatchStartFunction", start_event("new", video))
    assert aws.callbacks.calls == [("fail", "new", "ProviderRejectedError", "content policy")]


def test_start_asks_for_a_retry_while_the_existing_execution_runs(aws):
    video = machine(aws.sfn, "Video", {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}}})
    invoke("BatchStartFunction", start_event("old", video))
    with pytest.raises(VideoStillRunningError, match="already being made"):
        invoke("BatchStartFunction", start_event("new", video))
    assert aws.callbacks.calls == []
    aws.sfn.stop_execution(executionArn=naming.execution_arn(video, "june-r1-0123456789ab"))


def test_start_refuses_an_item_that_is_not_a_request(aws):
    bad = start_event("t", "arn:aws:states:us-east-1:123456789012:stateMachine:Video")
    bad["item"]["request"] = {"topic": "tides", "duration_seconds": 900}
    with pytest.raises(Exception, match="duration_seconds"):
        invoke("BatchStartFunction", bad)


# --------------------------------------------------------------------------- the video machine's answer


def video_event(function: str) -> dict:
    return json.loads((VIDEO_EVENTS / f"{function}.json").read_text())


def test_fail_answers_the_batch_row_with_the_error(services):
    # GIVEN a video started by a batch (its input carried a task token)
    services.callbacks = recorded = RecordedCallbacks()
    # WHEN its RecordFailure state calls Fail
    invoke("FailFunction", {**video_event("FailFunction"), "task_token": "row-token"})
    # THEN the row's token gets the failure: the error's name and the readable cause
    assert recorded.calls == [("fail", "row-token", "ProviderRejectedError", "the prompt was rejected by the content policy")]


def test_without_a_task_token_nobody_is_answered(services):
    services.callbacks = recorded = RecordedCallbacks()
    invoke("FailFunction", {**video_event("FailFunction"), "task_token": None})
    invoke("FailFunction", video_event("FailFunction"))
    assert recorded.calls == []


def test_finalize_answers_the_batch_row_with_the_job_result(services):
    services.callbacks = recorded = RecordedCallbacks()
    event = video_event("FinalizeFunction")
    result = invoke("FinalizeFunction", {**event, "task_token": "row-token"})
    assert recorded.calls == [("succeed", "row-token", result)]
    assert result["status"] == "succeeded"


def test_an_answer_to_a_token_nobody_waits_for_is_logged_not_raised():
    # GIVEN Step Functions (moto's engine) with no task waiting on this token
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        callbacks = StepFunctionsCallbacks(boto3.client("stepfunctions", region_name="us-east-1"))
        # WHEN / THEN answering it neither raises nor fails the finished video
        callbacks.succeed("no-such-token", {"status": "succeeded"})
        callbacks.fail("no-such-token", "X" * 500, "cause")

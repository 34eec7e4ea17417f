"""The batch state machine as batch.asl.json says it runs: moto's interpreter (Distributed Map with an S3
JSON ItemReader, lambda:invoke.waitForTaskToken, Catch inside the item processor) against moto S3, our
handlers answering every Lambda invoke, and the video machine answering each row's task token.

Assembly is the fake of test_video_machine (the render has its own tests); every other state of every
video runs its real handler with the offline providers.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from pathlib import Path

import boto3
import pytest

from faceless.batch import naming
from faceless.batch.clients import use_clients
from faceless.errors import ProviderRejectedError
from faceless.runner.embedded import EmbeddedRunner, LambdaContext
from faceless.runner.project import state_machine_arn
from tests.statemachine.test_video_machine import fake_assemble

BUCKET = "faceless-media"
EVENT = json.loads((Path(__file__).parents[1] / "events" / "batch" / "object_created.json").read_text())

MANIFEST = (
    "topic,duration_seconds,format,music\n"
    "How tides work,15,9:16,off\n"  # row 1: valid
    "Why cats purr,500,1:1,off\n"  # row 2: duration out of range
    "How bees dance,15,1:1,off\n"  # row 3: valid
    ",15,4:3,off\n"  # row 4: no topic/script and a format that does not exist
).encode()


@pytest.fixture
def runner(services, monkeypatch):
    use_clients(None)  # the batch handlers build their clients inside this mock
    with EmbeddedRunner() as embedded:
        embedded.overrides["AssembleFunction"] = fake_assemble
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        monkeypatch.setenv("BATCH_STATE_MACHINE_ARN", state_machine_arn("BatchStateMachine"))
        yield embedded
    use_clients(None)


def upload(key: str, body: bytes) -> str:
    return boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"].strip('"')


def object_created(key: str, etag: str) -> dict:
    event = copy.deepcopy(EVENT)
    event["detail"]["bucket"]["name"] = BUCKET
    event["detail"]["object"].update(key=key, etag=etag)
    return event


def trigger(runner: EmbeddedRunner, key: str, etag: str) -> dict:
    """What EventBridge does: call the trigger function with the S3 event."""
    runner.state_machine_arn("BatchStateMachine")  # created in moto (with the video machine) on first use
    context = LambdaContext(function_name="BatchTriggerFunction", invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:BatchTriggerFunction")
    return runner.handler("BatchTriggerFunction")(object_created(key, etag), context)


def videos(runner: EmbeddedRunner) -> dict[str, str]:
    machine = runner.state_machine_arn("VideoStateMachine")
    return {e["name"]: e["status"] for e in runner.sfn.list_executions(stateMachineArn=machine)["executions"]}


def report(services, key: str) -> dict:
    return json.loads(services.store.get_bytes(naming.report_key(key)))


def rows(report_: dict) -> dict[int, dict]:
    return {row["row"]: row for row in report_["results"]}


def test_a_manifest_with_good_and_bad_rows_makes_videos_for_exactly_the_valid_rows(runner, services):
    # GIVEN a CSV manifest with two valid and two invalid rows, uploaded under batches/
    key = "batches/june.csv"
    etag = upload(key, MANIFEST)

    # WHEN the S3 event reaches the trigger and the batch machine runs
    started = trigger(runner, key, etag)
    run = runner.wait(started["execution_arn"], timeout_seconds=60)

    # THEN the batch succeeded with one video execution per valid row, named from bucket, key, ETag and row
    assert started["started"] is True
    assert run.status == "SUCCEEDED", run.cause
    expected = {naming.video_id(BUCKET, key, etag, row) for row in (1, 3)}
    assert videos(runner) == {name: "SUCCEEDED" for name in expected}
    # AND reports/june.json names each invalid row and why, and each video's outputs
    result = report(services, key)
    assert (result["status"], result["rows"], result["succeeded"], result["invalid"], result["failed"]) == ("partial", 4, 2, 2, 0)
    by_row = rows(result)
    for row in (1, 3):
        assert by_row[row]["status"] == "succeeded"
        assert by_row[row]["video_id"] == naming.video_id(BUCKET, key, etag, row)
        assert Path(by_row[row]["outputs"]["metadata"]).is_file()
        assert by_row[row]["outputs"]["video"].endswith(f"jobs/batch/{by_row[row]['video_id']}/video.mp4")
    assert by_row[2]["status"] == "invalid"
    assert [p["field"] for p in by_row[2]["problems"]] == ["duration_seconds"]
    assert "180" in by_row[2]["problems"][0]["message"]
    assert by_row[4]["status"] == "invalid"
    assert {p["field"] for p in by_row[4]["problems"]} == {"format", "topic/script"}
    assert run.output["report_key"] == "reports/june.json"


def test_processing_the_same_object_twice_starts_nothing_new(runner, services):
    # GIVEN a manifest whose batch already ran to the end
    key = "batches/june.csv"
    etag = upload(key, MANIFEST)
    first = trigger(runner, key, etag)
    assert runner.wait(first["execution_arn"], timeout_seconds=60).status == "SUCCEEDED"
    made = videos(runner)
    batch_machine = runner.state_machine_arn("BatchStateMachine")

    # WHEN the same S3 event is delivered again
    again = trigger(runner, key, etag)

    # THEN the trigger reports the batch as already started and starts nothing
    assert again == {"started": False, "execution_arn": first["execution_arn"], "reason": "already started"}
    assert len(runner.sfn.list_executions(stateMachineArn=batch_machine)["executions"]) == 1

    # WHEN the batch machine itself runs again for the same object (say, started by hand under another name)
    rerun = runner.run("BatchStateMachine", {"bucket": BUCKET, "key": key, "etag": etag}, name="rerun", timeout_seconds=60)

    # THEN no video starts twice: each row is answered from its existing execution, and the report is the same
    assert rerun.status == "SUCCEEDED", rerun.cause
    assert videos(runner) == made
    starts = [i.result for i in rerun.invocations if i.function == "BatchStartFunction" and i.result]
    assert [s["started"] for s in starts].count(False) == 2
    assert report(services, key)["succeeded"] == 2


def test_a_failed_video_is_reported_and_the_other_rows_go_on(runner, services):
    # GIVEN an image provider that rejects one row's prompts for good
    real = runner.handler("ImageFunction")

    def rejecting(event, context):
        if "volcano" in (event["job"]["request"]["topic"] or ""):
            raise ProviderRejectedError("the prompt was rejected by the content policy")
        return real(event, context)

    runner.overrides["ImageFunction"] = rejecting
    key = "batches/mixed.json"
    manifest = [{"topic": "How volcanoes erupt", "duration_seconds": 15, "music": "off"},
                {"topic": "How tides work", "duration_seconds": 15, "music": "off"}]
    etag = upload(key, json.dumps(manifest).encode())

    # WHEN the batch runs
    run = runner.wait(trigger(runner, key, etag)["execution_arn"], timeout_seconds=60)

    # THEN the failed row is caught inside the item processor: the batch goes on and the report says why
    assert run.status == "SUCCEEDED", run.cause
    by_row = rows(report(services, key))
    assert by_row[1]["status"] == "failed"
    assert by_row[1]["error"].startswith("ProviderRejectedError")
    assert "content policy" in by_row[1]["error"]
    assert by_row[2]["status"] == "succeeded"
    assert report(services, key)["status"] == "partial"


def test_a_manifest_in_a_tenant_folder_makes_that_tenants_videos(runner, services):
    # GIVEN a JSON manifest under batches/<tenant>/, with one request and one row that is not an object
    key = "batches/acme/july.json"
    etag = upload(key, json.dumps([{"script": "Tides rise and fall twice a day because the Moon pulls the sea.",
                                    "music": "off"}, "not a request"]).encode())

    # WHEN the batch runs
    run = runner.wait(trigger(runner, key, etag)["execution_arn"], timeout_seconds=60)

    # THEN the video belongs to tenant acme and the report lands under reports/acme/
    assert run.status == "SUCCEEDED", run.cause
    result = report(services, key)
    assert naming.report_key(key) == "reports/acme/july.json"
    assert result["tenant_id"] == "acme"
    video = naming.video_id(BUCKET, key, etag, 1)
    assert services.store.exists(f"jobs/acme/{video}/metadata.json")
    assert rows(result)[2]["problems"] == [{"field": "row", "message": "must be a JSON object of request fields"}]


def test_an_unreadable_manifest_fails_the_batch_with_a_report_saying_why(runner, services):
    # GIVEN a .json manifest that is not JSON
    key = "batches/broken.json"
    etag = upload(key, b"topic,duration_seconds\nHow tides work,15\n")

    # WHEN the batch runs
    run = runner.wait(trigger(runner, key, etag)["execution_arn"], timeout_seconds=60)

    # THEN the execution fails with the error's name, no video starts, and the report says why
    assert run.status == "FAILED"
    assert run.error == "InvalidManifestError"
    assert videos(runner) == {}
    result = report(services, key)
    assert result["status"] == "failed"
    assert "not valid JSON" in result["error"]


def test_a_manifest_of_only_invalid_rows_makes_no_video_and_says_why(runner, services):
    key = "batches/nothing.csv"
    etag = upload(key, b"topic,duration_seconds\nHi,15\n")
    run = runner.wait(trigger(runner, key, etag)["execution_arn"], timeout_seconds=60)
    assert run.status == "SUCCEEDED", run.cause
    assert videos(runner) == {}
    result = report(services, key)
    assert (result["status"], result["invalid"]) == ("failed", 1)
    assert result["results"][0]["problems"][0]["field"] == "topic"


def test_the_distributed_map_makes_at_most_batch_max_concurrency_videos_at_once(runner, services):
    # GIVEN BatchMaxConcurrency 2, a manifest of four videos, and a Plan step slow enough to overlap
    runner.state_machine_arn("BatchStateMachine", extra_substitutions={"BatchMaxConcurrency": "2"})
    in_flight, peak, lock = set(), [0], threading.Lock()
    plan, finalize = runner.handler("PlanFunction"), runner.handler("FinalizeFunction")

    def slow_plan(event, context):
        with lock:
            in_flight.add(event["job_id"])
            peak[0] = max(peak[0], len(in_flight))
        time.sleep(0.4)
        return plan(event, context)

    def finalize_and_leave(event, context):
        try:
            return finalize(event, context)
        finally:
            with lock:
                in_flight.discard(event["job"]["job_id"])

    runner.overrides.update(PlanFunction=slow_plan, FinalizeFunction=finalize_and_leave)
    key = "batches/four.json"
    etag = upload(key, json.dumps([{"topic": f"Tides, part {n}", "duration_seconds": 15, "music": "off"} for n in range(4)]).encode())

    # WHEN the batch runs
    run = runner.wait(trigger(runner, key, etag)["execution_arn"], timeout_seconds=60)

    # THEN all four videos were made, never more than two at once
    assert run.status == "SUCCEEDED", run.cause
    assert report(services, key)["succeeded"] == 4, json.dumps(report(services, key)["results"])
    assert peak[0] == 2


@pytest.mark.parametrize("key", ["batches/readme.txt", "uploads/june.csv", "batches/"])
def test_an_object_that_is_not_a_manifest_starts_nothing(runner, key):
    result = trigger(runner, key, "0123456789abcdef")
    assert result["started"] is False
    assert "not a manifest" in result["reason"]
    assert runner.sfn.list_executions(stateMachineArn=runner.state_machine_arn("BatchStateMachine"))["executions"] == []

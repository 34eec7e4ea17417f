"""The jobs table repository in moto, and the tables template.yaml declares matching the code."""

from __future__ import annotations

from faceless.api.tables import SCHEMAS
from faceless.jobs import JobRecord, PostText, VideoUsage
from faceless.models import JobError, VideoRequest
from faceless.runner.project import load_template

from tests.functional.apisupport import ROOT, cloud  # noqa: F401 - the fixture

REQUEST = VideoRequest(topic="How tides work")


def test_progress_only_moves_forward_and_never_reopens_a_finished_job(cloud):
    jobs = cloud.context.jobs
    jobs.create(JobRecord(tenant_id="t", video_id="v1", request=REQUEST))
    # WHEN reports arrive out of order (parallel branches, retries)
    assert jobs.progress("t", "v1", "media", 40)
    assert not jobs.progress("t", "v1", "plan", 3)
    assert jobs.progress("t", "v1", "media", 40)  # same percent: a sibling branch may rename the stage
    record = jobs.get("t", "v1")
    assert (record.status, record.stage, record.progress) == ("running", "media", 40)
    # AND after success a late report changes nothing, nor does a failure
    post = PostText(title="Tides", description="How tides work.", hashtags=["#Tides", "#Moon"])
    jobs.succeed("t", "v1", {"video": "jobs/t/v1/video.mp4"}, VideoUsage(images=2), 0.01, post)
    assert not jobs.progress("t", "v1", "media", 68)
    jobs.fail("t", "v1", JobError(error="X", cause="late"))
    record = jobs.get("t", "v1")
    assert (record.status, record.progress, record.error) == ("succeeded", 100, None)
    assert record.outputs == {"video": "jobs/t/v1/video.mp4"} and record.usage.images == 2
    assert (record.title, record.description, record.hashtags) == ("Tides", "How tides work.", ["#Tides", "#Moon"])


def test_a_video_started_elsewhere_appears_at_its_first_report(cloud):
    # GIVEN a video a batch started (no item created by the API)
    jobs = cloud.context.jobs
    # WHEN the plan step reports
    assert jobs.progress("t", "batch-row-1", "plan", 3, request=REQUEST)
    # THEN the item exists with its request, and lists like any other
    record = jobs.get("t", "batch-row-1")
    assert record.status == "running" and record.request.topic == "How tides work" and record.created_at
    assert [r.video_id for r in jobs.list("t").items] == ["batch-row-1"]


def test_a_failure_keeps_the_stage_it_happened_at(cloud):
    jobs = cloud.context.jobs
    jobs.create(JobRecord(tenant_id="t", video_id="v2", request=REQUEST))
    jobs.progress("t", "v2", "assemble", 70)
    jobs.fail("t", "v2", JobError(error="RenderError", cause="boom"))
    record = jobs.get("t", "v2")
    assert (record.status, record.stage, record.error.error) == ("failed", "assemble", "RenderError")


def test_template_tables_match_the_code(cloud):
    resources = load_template(ROOT / "template.yaml")["Resources"]
    for logical_id, field in [("JobsTable", "jobs_table"), ("TenantsTable", "tenants_table"),
                              ("LedgerTable", "ledger_table"), ("IdempotencyTable", "idempotency_table")]:
        props = resources[logical_id]["Properties"]
        schema = SCHEMAS[field]
        assert props["KeySchema"] == schema["KeySchema"], logical_id
        assert sorted(props["AttributeDefinitions"], key=str) == sorted(schema["AttributeDefinitions"], key=str), logical_id
        assert props.get("LocalSecondaryIndexes", []) == schema.get("LocalSecondaryIndexes", []), logical_id
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, logical_id
    assert resources["IdempotencyTable"]["Properties"]["TimeToLiveSpecification"]["AttributeName"] == "expiration"

"""The api handler with real-shaped HTTP API v2 events (tests/events/http/), against moto: the
contract of POST /videos, GET /videos/{video_id}, GET /videos and GET /usage, and idempotency."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from faceless.api.urls import LocalUrlSigner
from faceless.jobs import VideoUsage
from faceless.models import JobError

from tests.functional.apisupport import URL_SECRET, cloud, sample  # noqa: F401 - the fixture

REQUEST = {"topic": "How volcanoes form", "duration_seconds": 15}


def test_the_sample_post_event_queues_a_video_and_starts_one_execution_named_after_it(cloud):
    # GIVEN the real-shaped POST /videos event (tenant-a, an Idempotency-Key)
    event = sample("post_videos")
    # WHEN the api function answers it
    result = cloud.api(event)
    # THEN 202 with the contract's fields
    assert result["statusCode"] == 202
    body = json.loads(result["body"])
    assert set(body) == {"video_id", "status", "status_url", "estimated_cost_usd", "notes"}
    assert body["status"] == "queued" and body["notes"] == []  # an English topic: nothing to warn about
    assert body["status_url"] == f"https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/videos/{body['video_id']}"
    assert result["headers"]["Location"] == body["status_url"]
    assert isinstance(body["estimated_cost_usd"], float) and body["estimated_cost_usd"] >= 0
    # AND the video state machine runs it: name = video id, input = JobInput
    [execution] = cloud.executions()
    assert execution["name"] == body["video_id"]
    job_input = json.loads(execution["input"])
    assert (job_input["job_id"], job_input["tenant_id"]) == (body["video_id"], "tenant-a")
    sent = json.loads(event["body"])
    assert {k: job_input["request"][k] for k in sent} == sent
    # AND the jobs table holds it as queued
    record = cloud.context.jobs.get("tenant-a", body["video_id"])
    assert record.status == "queued" and record.request.duration_seconds == 15


def test_a_topic_in_another_language_than_english_is_accepted_with_a_note_on_the_offline_outline_kept_for_reads(cloud):
    # GIVEN a deployment without an OpenAI key: the offline model writes the narration, in English only
    assert not cloud.settings.use_openai
    # WHEN a Spanish video is asked for a topic, and another for a Spanish script of the caller's own
    answers = []
    for extra in ({"topic": "Cómo se forman los volcanes"}, {"topic": None, "script": "Los volcanes nacen del fuego."}):
        answer = cloud.call("POST", "/videos", body={**REQUEST, "language": "es", **extra})
        assert answer.status == 202, answer.body
        answers.append(answer.body)
    # THEN the topic is accepted with a note saying the outline will be English and what to send instead
    [note] = answers[0]["notes"]
    assert "English" in note and "es voice" in note and "`script`" in note
    # AND the caller's own script needs no note
    assert answers[1]["notes"] == []
    # AND reading the videos later gives the same notes (a caller that polls sees them too)
    for answer in answers:
        read = cloud.call("GET", f"/videos/{answer['video_id']}")
        assert read.status == 200 and read.body["notes"] == answer["notes"]


def test_get_video_answers_the_contract_while_queued_and_after_success(cloud):
    # GIVEN a submitted video
    video_id = cloud.call("POST", "/videos", body=REQUEST).body["video_id"]
    # WHEN it is read while queued
    queued = cloud.call("GET", f"/videos/{video_id}")
    # THEN every contract field is there, outputs not yet
    assert queued.status == 200
    assert set(queued.body) >= {
        "video_id", "status", "stage", "progress", "created_at", "updated_at", "request", "outputs", "usage", "cost_usd", "error",
    }
    assert queued.body["status"] == "queued" and queued.body["progress"] == 0
    assert queued.body["outputs"] == {
        "video_url": None, "captions_srt_url": None, "captions_vtt_url": None, "thumbnail_url": None, "metadata_url": None,
    }
    # WHEN the pipeline reports progress, then success with its outputs
    prefix = f"jobs/tenant-a/{video_id}"
    jobs = cloud.context.jobs
    assert jobs.progress("tenant-a", video_id, "media", 40)
    running = cloud.call("GET", f"/videos/{video_id}").body
    assert (running["status"], running["stage"], running["progress"]) == ("running", "media", 40)
    outputs = {n: f"{prefix}/{f}" for n, f in [("video", "video.mp4"), ("captions_srt", "captions.srt"),
               ("captions_vtt", "captions.vtt"), ("thumbnail", "thumbnail.jpg"), ("metadata", "metadata.json")]}
    jobs.succeed("tenant-a", video_id, outputs, VideoUsage(prompt_tokens=300, completion_tokens=120, images=3), 0.0123)
    done = cloud.call("GET", f"/videos/{video_id}").body
    # THEN it is succeeded at 100 % with usage, cost and signed URLs that expire within the hour
    assert (done["status"], done["stage"], done["progress"]) == ("succeeded", "done", 100)
    assert done["usage"]["prompt_tokens"] == 300 and done["cost_usd"] == 0.0123
    signer = LocalUrlSigner(URL_SECRET)
    for name, key in outputs.items():
        url = urlsplit(done["outputs"][f"{name}_url"])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert signer.verify(url.path, query["expires"], query["signature"]) == key
        assert int(query["expires"]) - signer.clock() <= 3600


def test_in_the_cloud_the_output_urls_are_s3_presigned_for_at_most_an_hour(cloud):
    # GIVEN the S3 blob store (the deployed stack) and a succeeded video
    import boto3

    from faceless.api.context import ApiContext, use_api_context

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="media")
    context = ApiContext(cloud.settings.model_copy(update={"blob_store": "s3", "bucket": "media"}))
    use_api_context(context)
    video_id = cloud.call("POST", "/videos", body=REQUEST).body["video_id"]
    context.jobs.succeed("tenant-a", video_id, {"video": f"jobs/tenant-a/{video_id}/video.mp4"}, VideoUsage(), 0.0)
    # WHEN it is read
    outputs = cloud.call("GET", f"/videos/{video_id}").body["outputs"]
    # THEN the video URL is a SigV4 presigned GET of that key, valid 3600 s
    url = urlsplit(outputs["video_url"])
    query = parse_qs(url.query)
    assert url.path.endswith(f"/jobs/tenant-a/{video_id}/video.mp4")
    assert query["X-Amz-Expires"] == ["3600"] and "X-Amz-Signature" in query
    assert outputs["thumbnail_url"] is None  # only what exists is offered


def test_a_failed_video_reports_its_error_and_stage(cloud):
    video_id = cloud.call("POST", "/videos", body=REQUEST).body["video_id"]
    cloud.context.jobs.progress("tenant-a", video_id, "assemble", 70)
    cloud.context.jobs.fail("tenant-a", video_id, JobError(error="RenderError", cause="ffmpeg exited with 1"))
    body = cloud.call("GET", f"/videos/{video_id}").body
    assert (body["status"], body["stage"]) == ("failed", "assemble")
    assert body["error"] == {"error": "RenderError", "cause": "ffmpeg exited with 1"}
    assert body["outputs"]["video_url"] is None


def test_list_is_newest_first_and_pages_with_next_token(cloud):
    # GIVEN three videos
    ids = [cloud.call("POST", "/videos", body={**REQUEST, "topic": f"Topic number {n}"}).body["video_id"] for n in range(3)]
    # WHEN listed two at a time
    first = cloud.call("GET", "/videos", query={"limit": "2"}).body
    second = cloud.call("GET", "/videos", query={"limit": "2", "next_token": first["next_token"]}).body
    # THEN newest first, across both pages, each once, and the last page has no token
    listed = [v["video_id"] for v in first["videos"] + second["videos"]]
    assert listed == list(reversed(ids))
    assert first["next_token"] and second["next_token"] is None
    assert first["videos"][0]["topic"] == "Topic number 2"
    assert first["videos"][0]["status_url"].endswith(f"/videos/{ids[2]}")


def test_usage_counts_videos_and_adds_up_what_was_spent(cloud):
    ids = [cloud.call("POST", "/videos", body=REQUEST).body["video_id"] for _ in range(3)]
    cloud.context.jobs.succeed("tenant-a", ids[0], {}, VideoUsage(), 0.25)
    cloud.context.jobs.succeed("tenant-a", ids[1], {}, VideoUsage(), 0.5)
    usage = cloud.call("GET", "/usage").body
    assert usage == {
        "tenant_id": "tenant-a",
        "balance_usd": 0.0,
        "videos_made": 2,
        "videos_total": 3,
        "videos_by_status": {"succeeded": 2, "queued": 1},
        "spent_usd": 0.75,
    }


def test_the_same_idempotency_key_and_body_return_the_same_video_and_start_nothing_new(cloud):
    # GIVEN a POST with an Idempotency-Key
    first = cloud.call("POST", "/videos", body=REQUEST, headers={"Idempotency-Key": "order-42"})
    # WHEN it is sent again (a client retry)
    again = cloud.call("POST", "/videos", body=REQUEST, headers={"Idempotency-Key": "order-42"})
    # THEN the same video comes back and only one execution exists
    assert first.status == again.status == 202
    assert again.body == first.body
    assert len(cloud.executions()) == 1
    # AND the same key with another body is refused, starting nothing
    other = cloud.call("POST", "/videos", body={**REQUEST, "topic": "Another topic"}, headers={"Idempotency-Key": "order-42"})
    assert other.status == 422 and other.body["error"] == "idempotency_key_reused"
    assert len(cloud.executions()) == 1
    # AND a new key, or no key, is a new video
    assert cloud.call("POST", "/videos", body=REQUEST, headers={"Idempotency-Key": "order-43"}).body["video_id"] != first.body["video_id"]
    assert cloud.call("POST", "/videos", body=REQUEST).body["video_id"] != first.body["video_id"]
    assert len(cloud.executions()) == 3


def test_a_failing_start_is_a_503_and_the_job_is_marked_failed(cloud):
    # GIVEN Step Functions refusing to start (here: the machine is gone)
    cloud.sfn.delete_state_machine(stateMachineArn=cloud.machine_arn)
    # WHEN a video is submitted
    response = cloud.call("POST", "/videos", body=REQUEST)
    # THEN a 503 says to retry, and no job is left pretending to be queued
    assert response.status == 503 and response.body["error"] == "service_unavailable"
    [job] = cloud.call("GET", "/videos").body["videos"]
    assert job["status"] == "failed"

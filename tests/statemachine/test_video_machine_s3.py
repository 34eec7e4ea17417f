"""The video state machine with the S3 blob store (FACELESS_BLOB_STORE=s3), as in the cloud: every
intermediate and output lands in the bucket under jobs/<tenant>/<job>/, against moto S3."""

from __future__ import annotations

import json

import boto3
import pytest

from faceless.bootstrap import build_services, use_services
from faceless.models import VideoRequest
from faceless.runner.embedded import EmbeddedRunner
from faceless.runner.local import make_video
from faceless.settings import Settings
from faceless.store import S3BlobStore
from tests.statemachine.test_video_machine import fake_assemble

BUCKET = "faceless-media"


@pytest.fixture
def s3_run(tmp_path):
    with EmbeddedRunner() as runner:
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        settings = Settings.from_env({"FACELESS_BLOB_STORE": "s3", "FACELESS_BUCKET": BUCKET, "FACELESS_HOME": str(tmp_path)})
        services = build_services(settings)
        use_services(services)
        try:
            yield runner, services
        finally:
            use_services(None)


def keys(prefix: str) -> set[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return {item["Key"].removeprefix(prefix) for item in listed.get("Contents", [])}


def test_the_video_machine_keeps_every_blob_in_s3(s3_run):
    # GIVEN the S3 blob store over a moto bucket
    runner, services = s3_run
    assert isinstance(services.store, S3BlobStore)
    runner.overrides["AssembleFunction"] = fake_assemble

    # WHEN a 15 s video runs through the state machine
    run = make_video(VideoRequest(topic="how tides work", duration_seconds=15), runner, services, job_id="s3-job")

    # THEN it succeeded and its images, voice clips, music, journal, status and metadata are in the bucket
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    stored = keys("jobs/local/s3-job/")
    assert {"request.json", "status.json", "metadata.json", "music.wav"} <= stored
    segments = run.metadata.plan.segment_count
    assert sum(1 for k in stored if k.startswith("images/") and k.endswith(".png")) == segments
    # (and each offline card's scene without its words, for the thumbnail)
    assert sum(1 for k in stored if k.startswith("images/") and k.endswith(".clean.jpg")) == segments
    assert sum(1 for k in stored if k.startswith("voice/") and k.endswith(".wav")) == segments
    status = json.loads(boto3.client("s3").get_object(Bucket=BUCKET, Key="jobs/local/s3-job/status.json")["Body"].read())
    assert status["status"] == "succeeded"
    assert run.folder == "s3://faceless-media/jobs/local/s3-job"


@pytest.mark.slow
def test_with_the_s3_store_the_real_assembly_uploads_a_playable_video(s3_run):
    # GIVEN the S3 blob store and the real assembly (ffmpeg reads its inputs from, and writes to, the bucket)
    runner, services = s3_run

    # WHEN a 15 s square video runs through the state machine
    run = make_video(VideoRequest(topic="how tides work", duration_seconds=15, format="1:1", music="off"), runner, services, job_id="s3-real")

    # THEN the MP4, captions and thumbnail are objects in the bucket, and the MP4 is H.264 at the asked size
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    stored = keys("jobs/local/s3-real/")
    assert {"video.mp4", "captions.srt", "captions.vtt", "thumbnail.jpg", "script.json"} <= stored
    from faceless.media.probe import probe

    info = probe(services.store.local_path("jobs/local/s3-real/video.mp4"))
    assert (info.video_codec, info.width, info.height) == ("h264", 1080, 1080)
    assert info.duration_seconds == pytest.approx(run.metadata.duration_seconds, abs=0.1)

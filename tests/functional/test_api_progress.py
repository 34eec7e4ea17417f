"""Each state of the video machine moves the job forward in the jobs table (the machine run in
moto's interpreter, every handler real except the render, which has its own tests)."""

from __future__ import annotations

import sys
import threading

import pytest

from faceless.api.tables import create_tables, with_local_tables
from faceless.bootstrap import build_services, use_services
from faceless.errors import ProviderRejectedError
from faceless.jobs import JobError, JobRecord
from faceless.models import VideoRequest
from faceless.runner.embedded import EmbeddedRunner
from faceless.runner.local import make_video
from faceless.settings import Settings
from faceless.store import get_json
from tests.fakes.render import fake_assemble_handler

fake_assemble = fake_assemble_handler(render_seconds=0.5)


class Recorder:
    """Wraps the jobs repository: every progress report, in order, and whether the video's folder was
    claimed (as a process making it claims it) when it came."""

    def __init__(self, jobs, store) -> None:
        self.jobs, self.reports, self.claimed, self.lock = jobs, [], [], threading.Lock()
        real = jobs.progress

        def progress(tenant_id, video_id, stage, percent, request=None):
            with self.lock:
                self.reports.append((stage, percent))
                self.claimed.append(store.in_use(f"jobs/{tenant_id}/{video_id}"))
            return real(tenant_id, video_id, stage, percent, request)

        jobs.progress = progress


@pytest.fixture
def machine(tmp_path):
    with EmbeddedRunner() as runner:
        settings = with_local_tables(Settings(home=tmp_path / "blobs"))
        create_tables(settings)
        services = build_services(settings)
        use_services(services)
        runner.overrides["AssembleFunction"] = fake_assemble
        try:
            yield runner, services, Recorder(services.jobs, services.store)
        finally:
            use_services(None)


def test_a_video_goes_queued_running_succeeded_with_stage_and_percent(machine):
    runner, services, recorder = machine
    # GIVEN a queued job, as the API creates it
    request = VideoRequest(topic="Why the sky is blue", duration_seconds=15, music="off")
    services.jobs.create(JobRecord(tenant_id="acme", video_id="vid-1", stage="queued", request=request))
    # WHEN the video machine runs it
    run = make_video(request, runner, services, job_id="vid-1", tenant_id="acme", timeout_seconds=120)
    # THEN it succeeded, and the job moved through every stage in order, never backwards
    assert run.succeeded, run.execution
    stages = [stage for stage, _ in recorder.reports]
    for earlier, later in [("plan", "script"), ("script", "analyse"), ("analyse", "refine"), ("refine", "media"),
                           ("media", "finalize")]:  # (assemble reports from its real handler, faked here)
        assert stages.index(earlier) < stages.index(later)
    percents = [percent for _, percent in recorder.reports]
    assert percents[0] == 3 and percents[-1] == 97
    record = services.jobs.get("acme", "vid-1")
    assert (record.status, record.stage, record.progress) == ("succeeded", "done", 100)
    assert record.outputs["video"] == "jobs/acme/vid-1/video.mp4" and record.outputs["metadata"] == "jobs/acme/vid-1/metadata.json"
    assert record.usage.images == run.metadata.images and record.cost_usd == run.metadata.cost.total_usd
    media = [p for s, p in recorder.reports if s == "media"]
    assert max(media) == 68  # every image and voice clip landed
    # AND its folder was claimed from the plan on (a server starting meanwhile leaves it be), and is no more
    assert all(recorder.claimed) and not services.store.in_use("jobs/acme/vid-1")
    # AND the folder's progress, noted as it went for a server reading it (status.json: start and end only), ends done
    assert get_json(services.store, "jobs/acme/vid-1/progress.json") == {"stage": "done", "progress": 100}


def test_a_failing_video_is_marked_failed_with_its_error_and_stage(machine):
    runner, services, recorder = machine

    def refuse(event, context):
        raise ProviderRejectedError("content policy")

    runner.overrides["ImageFunction"] = refuse
    request = VideoRequest(topic="Why the sky is blue", duration_seconds=15, music="off")
    run = make_video(request, runner, services, job_id="vid-2", tenant_id="acme", timeout_seconds=120)
    assert not run.succeeded
    record = services.jobs.get("acme", "vid-2")
    assert record.status == "failed" and record.stage == "media"
    assert record.error.error == "ProviderRejectedError" and "content policy" in record.error.cause
    # AND its folder, claimed from the plan on, is let go by the failure (a voice clip may still report after)
    assert recorder.claimed[0] and not services.store.in_use("jobs/acme/vid-2")
    # AND its folder's progress says where it failed
    assert get_json(services.store, "jobs/acme/vid-2/progress.json")["stage"] == "media"


def test_a_progress_report_racing_the_failure_never_reopens_the_job(machine):
    """GIVEN the local jobs table of the embedded runner (moto's DynamoDB, which checks a write's
    condition and then writes, with nothing between) and threads reporting media progress
    WHEN the job is marked failed while they report, ten times over, with thread switches forced
    every 0.1 ms (without the lock 7 to 9 jobs in 10 were reopened so)
    THEN every job ends failed: a report that saw "running" cannot land over the failure, as in
    real DynamoDB, where a conditional write is atomic."""
    _, services, _ = machine
    request = VideoRequest(topic="Why the sky is blue", duration_seconds=15, music="off")
    reopened = []
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        for attempt in range(10):
            video_id = f"race-{attempt}"
            services.jobs.create(JobRecord(tenant_id="acme", video_id=video_id, stage="queued", request=request))

            def report(video_id: str = video_id) -> None:
                for percent in range(1, 30):
                    services.jobs.progress("acme", video_id, "media", percent)

            reporters = [threading.Thread(target=report) for _ in range(3)]
            for reporter in reporters:
                reporter.start()
            services.jobs.fail("acme", video_id, JobError(error="ProviderRejectedError", cause="content policy"))
            for reporter in reporters:
                reporter.join()
            if services.jobs.get("acme", video_id).status != "failed":
                reopened.append(video_id)
    finally:
        sys.setswitchinterval(switch_interval)
    assert reopened == []

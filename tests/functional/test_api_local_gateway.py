"""`faceless serve`'s stand-in for API Gateway, called in-process (no HTTP): the routes and the
authorizer come from template.yaml, requests become real-shaped v2 events for the same handlers."""

from __future__ import annotations

import base64
import json
import time

import pytest

from faceless.errors import InvalidRequestError
from faceless.runner.serve import LocalServer, http_api_event, lambda_answer, read_api_spec

from tests.functional.apisupport import ROOT

KEY = "fl_local_gateway_test_key_000"


def test_the_routes_and_the_authorizer_come_from_the_template():
    spec = read_api_spec(ROOT)
    assert spec.function == "ApiFunction" and spec.authorizer == "AuthorizerFunction"
    assert {r.key for r in spec.routes} == {"POST /videos", "GET /videos", "GET /videos/{video_id}", "GET /usage", "GET /voices"}


def test_a_request_becomes_a_payload_2_event():
    # GIVEN an HTTP request with repeated headers, a cookie, a query and a binary body
    headers = [("Authorization", "Bearer k"), ("X-Tag", "a"), ("X-Tag", "b"), ("Cookie", "a=1; b=2")]
    event = http_api_event("POST", "/videos?limit=2&x=1&x=2", headers, b"\xff\x00", "127.0.0.1:8080", "127.0.0.1")
    # THEN it has API Gateway's shape
    assert event["version"] == "2.0" and event["rawPath"] == "/videos" and event["rawQueryString"] == "limit=2&x=1&x=2"
    assert event["headers"]["authorization"] == "Bearer k" and event["headers"]["x-tag"] == "a,b"
    assert event["cookies"] == ["a=1", "b=2"] and "cookie" not in event["headers"]
    assert event["queryStringParameters"] == {"limit": "2", "x": "1,2"}
    assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == b"\xff\x00"
    assert event["requestContext"]["http"]["method"] == "POST" and event["requestContext"]["stage"] == "$default"


def test_a_lambda_result_becomes_http():
    answer = lambda_answer({"statusCode": 202, "headers": {"Location": "/v"}, "body": '{"a":1}', "cookies": ["c=1"]})
    assert (answer.status, answer.headers["Location"], answer.body, answer.cookies) == (202, "/v", b'{"a":1}', ["c=1"])
    assert lambda_answer({"statusCode": 200, "body": base64.b64encode(b"\x00").decode(), "isBase64Encoded": True}).body == b"\x00"


@pytest.fixture
def server(tmp_path):
    from faceless.settings import Settings

    with LocalServer(port=0, api_key=KEY, settings=Settings(home=tmp_path / "blobs")) as local:
        yield local


def call(server, method, target, body=b"", key=KEY):
    headers = [("Host", "127.0.0.1:9"), ("Content-Type", "application/json")]
    if key is not None:
        headers.append(("Authorization", f"Bearer {key}"))
    answer = server.gateway.answer(method, target, headers, body, "127.0.0.1:9", "127.0.0.1")
    return answer.status, json.loads(answer.body) if answer.body else None


def test_the_local_gateway_authorizes_routes_and_runs_the_video_in_the_background(server):
    # GIVEN the plan step refusing (so the background video ends at once, through the real Catch)
    def refuse(event, context):
        raise InvalidRequestError("refused for the test")

    server._runner.overrides["PlanFunction"] = refuse
    # THEN no key and a wrong key are 401s, an unknown route a 404
    assert call(server, "GET", "/usage", key=None) == (401, {"message": "Unauthorized"})
    assert call(server, "GET", "/usage", key="wrong-key-000000000")[0] == 401
    assert call(server, "DELETE", "/videos")[0] == 404 and call(server, "GET", "/nowhere")[0] == 404
    # WHEN a video is posted
    status, body = call(server, "POST", "/videos", json.dumps({"topic": "Local gateway", "duration_seconds": 15}).encode())
    assert status == 202 and body["status_url"] == f"http://127.0.0.1:9/videos/{body['video_id']}"
    # THEN the execution runs in the background and the job ends failed with the step's error
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, view = call(server, "GET", f"/videos/{body['video_id']}")
        if view["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    assert view["status"] == "failed" and view["error"]["error"] == "InvalidRequestError"
    # AND an encoded path is just an unknown video
    assert call(server, "GET", "/videos/%2E%2E%2Fx")[0] == 404


def _leave_video(store, video_id: str, status: dict, started: float, metadata: dict | None = None) -> None:
    """A video's folder as the pipeline leaves it: request, status, a stage timing, metadata once made."""
    from faceless.models import VideoRequest
    from faceless.store import put_json

    prefix = f"jobs/local/{video_id}"
    put_json(store, f"{prefix}/request.json", VideoRequest(topic="Tides", duration_seconds=15).model_dump(mode="json"))
    put_json(store, f"{prefix}/status.json", {"job_id": video_id, "tenant_id": "local"} | status)
    put_json(store, f"{prefix}/journal/timings/plan.json", {"stage": "plan", "started": started, "ended": started + 1})
    if metadata is not None:
        put_json(store, f"{prefix}/metadata.json", metadata)
        store.put_bytes(f"{prefix}/video.mp4", b"not really a video")


def test_a_server_started_on_a_folder_answers_for_the_videos_already_in_it(tmp_path):
    from faceless.models import CostBreakdown, Metadata, VideoRequest
    from faceless.planning import make_plan
    from faceless.settings import Settings
    from faceless.store import LocalBlobStore, get_json

    # GIVEN a folder an earlier server left: one video made, one it was making when it was killed (its
    # status.json still says running), and a folder with no request in it
    store = LocalBlobStore(tmp_path / "blobs")
    request = VideoRequest(topic="Tides", duration_seconds=15)
    made = Metadata(
        job_id="20261101-100000-aaaaaaaaaaaa", title="Tides", description="How tides work.", hashtags=["#Tides"],
        request=request, plan=make_plan(request, Settings()), duration_seconds=15.2, timings=[], usage=[],
        tokens_by_agent={}, images=3, images_reused=0, tts_characters=200, render_seconds=4.0,
        cost=CostBreakdown(compute_usd=0.001, total_usd=0.001),
        outputs={"video": "jobs/local/20261101-100000-aaaaaaaaaaaa/video.mp4"},
    )  # fmt: skip
    _leave_video(store, made.job_id, {"status": "succeeded", "stage": "done", "progress": 100}, 1793527200.0,
                 made.model_dump(mode="json"))  # fmt: skip
    _leave_video(store, "20261101-110000-bbbbbbbbbbbb", {"status": "running", "stage": "plan", "progress": 0}, 1793530800.0)
    store.put_bytes("jobs/local/stray/status.json", b"{}")
    # WHEN a server starts on it
    with LocalServer(port=0, api_key=KEY, settings=Settings(home=tmp_path / "blobs")) as server:
        # THEN it says so, and answers for both videos as it did (the tables start empty)
        assert server.recovered == 2 and "2 video(s) already in the folder" in server.banner()
        status, view = call(server, "GET", f"/videos/{made.job_id}")
        assert (status, view["status"], view["cost_usd"], view["usage"]["images"]) == (200, "succeeded", 0.001, 3)
        assert (view["title"], view["hashtags"]) == ("Tides", ["#Tides"])
        assert view["created_at"].startswith("2026-11-01T10:00:00")
        assert "video.mp4" in view["outputs"]["video_url"]  # a signed link (downloads: tests/e2e/test_serve.py)
        # AND the one it was making is failed, Interrupted, not "running" forever, in its folder too
        status, view = call(server, "GET", "/videos/20261101-110000-bbbbbbbbbbbb")
        assert (view["status"], view["error"]["error"]) == ("failed", "Interrupted")
        assert view["error"]["cause"] == "the process making it stopped before it was made (plan, 0%)"
        assert get_json(store, "jobs/local/20261101-110000-bbbbbbbbbbbb/status.json")["status"] == "failed"
        # AND the listing has both, newest first
        listed = [video["video_id"] for video in call(server, "GET", "/videos")[1]["videos"]]
        assert listed == ["20261101-110000-bbbbbbbbbbbb", made.job_id]


_CLAIMER = """
import sys
from faceless.store import LocalBlobStore
store = LocalBlobStore(sys.argv[1])
store.claim(sys.argv[2])
print("claimed", flush=True)
sys.stdin.read()  # until the test closes stdin (the run ends) or kills this process (the run dies)
"""


def _another_process_making(root, video_id: str):
    """A second process claiming a video's folder, as `faceless make` does while it makes the video."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-c", _CLAIMER, str(root), f"jobs/local/{video_id}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout.readline().strip() == "claimed"
    return process


def _wait_until(server, video_id: str, check) -> dict | None:
    """The video's view once `check(view)` holds (None while it is unknown: 404), or the last one after 15 s."""
    deadline = time.monotonic() + 15
    while True:
        status, view = call(server, "GET", f"/videos/{video_id}")
        view = view if status == 200 else None
        if (view is not None and check(view)) or time.monotonic() > deadline:
            return view
        time.sleep(0.1)


def test_a_server_follows_the_videos_another_process_is_still_making(tmp_path):
    from faceless.models import CostBreakdown, Metadata, VideoRequest
    from faceless.planning import make_plan
    from faceless.settings import Settings
    from faceless.store import LocalBlobStore, get_json, put_json

    # GIVEN a folder where two videos are being made by other live processes (`faceless make`, `batch`)
    store = LocalBlobStore(tmp_path / "blobs")
    finishing, dying = "20261101-120000-cccccccccccc", "20261101-120500-dddddddddddd"
    _leave_video(store, finishing, {"status": "running", "stage": "media", "progress": 40}, 1793534400.0)
    _leave_video(store, dying, {"status": "running", "stage": "assemble", "progress": 70}, 1793534700.0)
    maker, doomed = _another_process_making(store.root, finishing), _another_process_making(store.root, dying)
    try:
        # WHEN a server starts on the folder
        with LocalServer(port=0, api_key=KEY, settings=Settings(home=tmp_path / "blobs")) as server:
            # THEN it lists both as running where they are, not Interrupted, and leaves their folders alone
            assert "2 video(s) already in the folder (2 still being made by another faceless process)" in server.banner()
            for video_id, stage in ((finishing, "media"), (dying, "assemble")):
                view = call(server, "GET", f"/videos/{video_id}")[1]
                assert (view["status"], view["stage"]) == ("running", stage)
                assert get_json(store, f"jobs/local/{video_id}/status.json")["status"] == "running"
            # WHEN the first run goes on (it notes its stage and percent in progress.json as it goes)
            put_json(store, f"jobs/local/{finishing}/progress.json", {"stage": "assemble", "progress": 80})
            # THEN the server's record follows it
            view = _wait_until(server, finishing, lambda v: v["progress"] == 80)
            assert (view["status"], view["stage"], view["progress"]) == ("running", "assemble", 80)
            # WHEN it makes its video (metadata, then the final status, then it ends)
            request = VideoRequest(topic="Tides", duration_seconds=15)
            made = Metadata(
                job_id=finishing, title="Tides", description="How tides work.", hashtags=["#Tides"], request=request,
                plan=make_plan(request, Settings()), duration_seconds=15.2, timings=[], usage=[], tokens_by_agent={},
                images=3, images_reused=0, tts_characters=200, render_seconds=4.0,
                cost=CostBreakdown(compute_usd=0.002, total_usd=0.002), outputs={"video": f"jobs/local/{finishing}/video.mp4"},
            )  # fmt: skip
            put_json(store, f"jobs/local/{finishing}/metadata.json", made.model_dump(mode="json"))
            store.put_bytes(f"jobs/local/{finishing}/video.mp4", b"not really a video")
            put_json(store, f"jobs/local/{finishing}/status.json",
                     {"job_id": finishing, "tenant_id": "local", "status": "succeeded", "stage": "done", "progress": 100})  # fmt: skip
            maker.stdin.close()
            assert maker.wait(10) == 0
            # THEN the server's record follows: made, with what to post it with and its cost
            view = _wait_until(server, finishing, lambda v: v["status"] == "succeeded")
            assert (view["status"], view["title"], view["cost_usd"]) == ("succeeded", "Tides", 0.002)
            assert "video.mp4" in view["outputs"]["video_url"]
            # WHEN the other run, having got a little further, dies (killed) before its video is made
            put_json(store, f"jobs/local/{dying}/progress.json", {"stage": "assemble", "progress": 75})
            doomed.kill()
            doomed.wait(10)
            # THEN the server marks that one failed, Interrupted, in its folder too
            view = _wait_until(server, dying, lambda v: v["status"] == "failed")
            assert (view["status"], view["error"]["error"]) == ("failed", "Interrupted")
            assert view["error"]["cause"] == "the process making it stopped before it was made (assemble, 75%)"
            assert get_json(store, f"jobs/local/{dying}/status.json")["error"]["error"] == "Interrupted"
    finally:
        for process in (maker, doomed):
            if process.poll() is None:
                process.kill()
                process.wait()


def test_a_server_picks_up_a_video_another_process_starts_after_it(tmp_path):
    from faceless.settings import Settings
    from faceless.store import LocalBlobStore, put_json

    # GIVEN a server running on an empty folder
    store = LocalBlobStore(tmp_path / "blobs")
    with LocalServer(port=0, api_key=KEY, settings=Settings(home=tmp_path / "blobs")) as server:
        assert server.recovered == 0 and call(server, "GET", "/videos")[1]["videos"] == []
        # WHEN a `faceless make` beside it starts a video there (claims its folder, then writes its first files)
        video_id = "20261101-130000-eeeeeeeeeeee"
        maker = _another_process_making(store.root, video_id)
        try:
            _leave_video(store, video_id, {"status": "running", "stage": "plan", "progress": 0}, 1793538000.0)
            put_json(store, f"jobs/local/{video_id}/progress.json", {"stage": "media", "progress": 40})
            # THEN the server lists it, running where it is, without a restart
            view = _wait_until(server, video_id, lambda v: v["progress"] == 40)
            assert view is not None and (view["status"], view["stage"], view["progress"]) == ("running", "media", 40)
            # AND when that process dies, it is recorded as Interrupted where it was
            maker.kill()
            maker.wait(10)
            view = _wait_until(server, video_id, lambda v: v["status"] == "failed")
            assert view["error"]["cause"] == "the process making it stopped before it was made (media, 40%)"
        finally:
            if maker.poll() is None:
                maker.kill()
                maker.wait()


def test_a_server_never_takes_its_own_running_video_for_an_abandoned_one(tmp_path):
    import threading

    from faceless.settings import Settings
    from faceless.store import put_json

    # GIVEN a server on a folder that cannot hold claims (its .claims is a file: no lock can be taken)
    (tmp_path / "blobs").mkdir()
    (tmp_path / "blobs" / ".claims").write_text("not a folder")
    with LocalServer(port=0, api_key=KEY, settings=Settings(home=tmp_path / "blobs")) as server:
        # AND a video it makes through its API, held at the plan with its folder saying running
        planned, finish = threading.Event(), threading.Event()

        def plan_and_hold(event, context):
            prefix = f"jobs/local/{event['job_id']}"
            put_json(server.store, f"{prefix}/request.json", event["request"])
            put_json(server.store, f"{prefix}/status.json",
                     {"job_id": event["job_id"], "tenant_id": "local", "status": "running", "stage": "plan"})  # fmt: skip
            planned.set()
            finish.wait(30)
            raise InvalidRequestError("done holding")

        server._runner.overrides["PlanFunction"] = plan_and_hold
        video_id = call(server, "POST", "/videos", json.dumps({"topic": "Own", "duration_seconds": 15}).encode())[1]["video_id"]
        assert planned.wait(15)
        # WHEN the server's watcher reads the folder a few times over
        time.sleep(2.5)
        # THEN its own video is still running, in its table and its folder: not marked Interrupted
        view = call(server, "GET", f"/videos/{video_id}")[1]
        status = json.loads((tmp_path / "blobs" / "jobs" / "local" / video_id / "status.json").read_text())
        finish.set()
        assert view["status"] != "failed" and status["status"] == "running"

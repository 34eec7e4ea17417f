"""`faceless serve` end to end (acceptance 2): the real command on 127.0.0.1, real HTTP, the real
state machine and render in the background; a 15 s video posted, polled until it succeeded, and
every output downloaded through the URLs the API returned."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from faceless.media.probe import probe

pytestmark = pytest.mark.slow

KEY = "fl_e2e_serve_key_0123456789abcdef"


def request(method: str, url: str, body: bytes | None = None, key: str | None = KEY) -> tuple[int, dict, bytes]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def start_server(tmp_path: Path) -> tuple[str, subprocess.Popen]:
    """`faceless serve --port 0` as a user starts it, on the test's output folder; its URL from the banner."""
    command = Path(sys.executable).parent / "faceless"
    argv = [str(command)] if command.exists() else [sys.executable, "-m", "faceless.runner.cli"]
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "GEMINI_API_KEY", "FACELESS_BLOB_STORE")}
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env.update(FACELESS_API_KEY=KEY, POWERTOOLS_LOG_LEVEL="ERROR", TMPDIR=str(tmp_path / "tmp"))
    process = subprocess.Popen(
        [*argv, "serve", "--port", "0", "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )
    banner = process.stdout.readline()
    assert banner.startswith("Faceless API on http://127.0.0.1:"), banner + process.stderr.read()
    return banner.split()[3], process


def stop_server(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def served(tmp_path):
    url, process = start_server(tmp_path)
    try:
        yield url, process
    finally:
        stop_server(process)


def test_post_poll_and_download_a_15_second_video_over_http(served, tmp_path):
    url, process = served
    # GIVEN the server, WHEN a 15 s video is posted
    status, headers, raw = request("POST", f"{url}/videos", json.dumps({"topic": "How volcanoes form", "duration_seconds": 15, "format": "1:1"}).encode())
    # THEN 202 queued, with where to poll
    assert status == 202, raw
    accepted = json.loads(raw)
    assert accepted["status"] == "queued" and accepted["status_url"] == f"{url}/videos/{accepted['video_id']}"
    # WHEN polled until done (stage and percent move forward meanwhile)
    seen, deadline = [], time.monotonic() + 240
    while time.monotonic() < deadline:
        status, _, raw = request("GET", accepted["status_url"])
        assert status == 200
        view = json.loads(raw)
        seen.append((view["status"], view["progress"]))
        if view["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    # THEN it succeeded at 100 %, never going backwards
    assert view["status"] == "succeeded", view
    assert [p for _, p in seen] == sorted(p for _, p in seen) and view["progress"] == 100
    assert view["usage"]["images"] >= 1 and view["cost_usd"] is not None
    # AND every output downloads through its URL
    files = {}
    for name in ("video", "captions_srt", "captions_vtt", "thumbnail", "metadata"):
        status, headers, data = request("GET", view["outputs"][f"{name}_url"], key=None)
        assert status == 200, name
        files[name] = data
    assert files["thumbnail"][:3] == b"\xff\xd8\xff" and b"-->" in files["captions_srt"] and files["captions_vtt"].startswith(b"WEBVTT")
    metadata = json.loads(files["metadata"])
    assert metadata["job_id"] == accepted["video_id"]
    # AND the view gives what to post it with, as metadata.json has it
    assert (view["title"], view["description"], view["hashtags"]) == (metadata["title"], metadata["description"], metadata["hashtags"])
    assert view["title"] and view["hashtags"]
    video = tmp_path / "downloaded.mp4"
    video.write_bytes(files["video"])
    info = probe(video)
    assert (info.width, info.height) == (1080, 1080) and 14 <= info.duration_seconds <= 30
    # AND a tampered link, no key, a wrong key and a bad body are refused with 4xx
    assert request("GET", view["outputs"]["video_url"].replace("video.mp4", "script.json"), key=None)[0] == 403
    assert request("GET", f"{url}/videos", key=None)[0] == 401
    assert request("GET", f"{url}/videos", key="fl_wrong_key_0000000000")[0] == 401
    status, _, raw = request("POST", f"{url}/videos", json.dumps({"topic": "Volcanoes", "duration_seconds": 500}).encode())
    assert status == 400 and json.loads(raw)["details"][0]["field"] == "duration_seconds"
    # AND the listing and usage show it
    listed = json.loads(request("GET", f"{url}/videos?limit=5")[2])
    assert listed["videos"][0]["video_id"] == accepted["video_id"]
    assert json.loads(request("GET", f"{url}/usage")[2])["videos_made"] == 1
    # AND the server logged each request on stderr, and stops cleanly on SIGTERM
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert "POST /videos 202" in process.stderr.read()
    # AND a server started again on the same folder still answers for the video, and its link downloads
    url, process = start_server(tmp_path)
    try:
        status, _, raw = request("GET", f"{url}/videos/{accepted['video_id']}")
        again = json.loads(raw)
        assert (status, again["status"], again["cost_usd"]) == (200, "succeeded", view["cost_usd"])
        assert request("GET", again["outputs"]["video_url"], key=None)[2] == files["video"]
    finally:
        stop_server(process)


def test_stopping_the_server_mid_video_abandons_it_at_once_and_cleanly(served, tmp_path):
    url, process = served
    # GIVEN a 30 s video being made
    status, _, raw = request("POST", f"{url}/videos", json.dumps({"topic": "How volcanoes form", "duration_seconds": 30}).encode())
    assert status == 202, raw
    status_url = json.loads(raw)["status_url"]
    deadline = time.monotonic() + 60
    while json.loads(request("GET", status_url)[2])["progress"] < 68 and time.monotonic() < deadline:
        time.sleep(0.2)  # until it is assembling: threads inside OpenCV and ffmpeg
    # WHEN a service manager stops the server
    process.send_signal(signal.SIGTERM)
    # THEN it ends at once with 0, saying what it abandoned, without an abort
    assert process.wait(timeout=20) == 0
    said = process.stderr.read()
    assert "faceless: stopped; 1 video(s) still being made were abandoned" in said, said
    assert "terminate called" not in said and "Traceback" not in said
    # AND leaves no temporary file behind (the tokenizer's vocabulary cache is kept on purpose)
    assert [path.name for path in (tmp_path / "tmp").iterdir()] in ([], ["faceless-tiktoken"])
    # AND the video's folder says it was abandoned, and where, rather than "running" forever
    video_id = status_url.rsplit("/", 1)[1]
    recorded = json.loads((tmp_path / "out" / "jobs" / "local" / video_id / "status.json").read_text())
    assert (recorded["status"], recorded["error"]["error"]) == ("failed", "Interrupted")
    assert re.fullmatch(r"the server stopped while it was being made \((media|assemble), \d+%\)", recorded["error"]["cause"])
    # AND a server started again on the folder says the same
    url, process = start_server(tmp_path)
    try:
        view = json.loads(request("GET", f"{url}/videos/{video_id}")[2])
        assert (view["status"], view["error"]) == ("failed", recorded["error"])
    finally:
        stop_server(process)

"""Acceptance 4: a tenant cannot read, list or download another tenant's video."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from faceless.api.urls import LocalUrlSigner
from faceless.jobs import VideoUsage

from tests.functional.apisupport import URL_SECRET, cloud  # noqa: F401 - the fixture

REQUEST = {"topic": "A private topic", "duration_seconds": 15}


def test_another_tenants_video_is_not_found_not_listed_and_not_counted(cloud):
    # GIVEN tenant A's finished video
    video_id = cloud.call("POST", "/videos", body=REQUEST, tenant="tenant-a").body["video_id"]
    cloud.context.jobs.succeed("tenant-a", video_id, {"video": f"jobs/tenant-a/{video_id}/video.mp4"}, VideoUsage(), 0.3)
    assert cloud.call("GET", f"/videos/{video_id}", tenant="tenant-a").status == 200
    # WHEN tenant B reads it, lists its videos and its usage
    read = cloud.call("GET", f"/videos/{video_id}", tenant="tenant-b")
    listed = cloud.call("GET", "/videos", tenant="tenant-b").body
    usage = cloud.call("GET", "/usage", tenant="tenant-b").body
    # THEN it is a 404 (not a 403: its existence is not confirmed), absent and uncounted
    assert read.status == 404 and read.body["error"] == "not_found"
    assert listed == {"videos": [], "next_token": None}
    assert (usage["videos_total"], usage["spent_usd"]) == (0, 0.0)


def test_a_page_token_of_another_tenant_is_refused(cloud):
    # GIVEN a token from tenant A's listing
    for n in range(2):
        cloud.call("POST", "/videos", body={**REQUEST, "topic": f"Private topic {n}"}, tenant="tenant-a")
    token = cloud.call("GET", "/videos", query={"limit": "1"}, tenant="tenant-a").body["next_token"]
    assert token
    # WHEN tenant B pages with it
    response = cloud.call("GET", "/videos", query={"next_token": token}, tenant="tenant-b")
    # THEN it is refused, and B sees nothing of A
    assert response.status == 400 and response.body["details"][0]["field"] == "next_token"


def test_the_same_idempotency_key_in_two_tenants_makes_two_videos(cloud):
    a = cloud.call("POST", "/videos", body=REQUEST, headers={"Idempotency-Key": "k-1"}, tenant="tenant-a").body
    b = cloud.call("POST", "/videos", body=REQUEST, headers={"Idempotency-Key": "k-1"}, tenant="tenant-b").body
    assert a["video_id"] != b["video_id"]
    assert cloud.call("GET", f"/videos/{a['video_id']}", tenant="tenant-b").status == 404
    assert {e["name"] for e in cloud.executions()} == {a["video_id"], b["video_id"]}


def test_download_urls_are_bound_to_their_key(cloud):
    # GIVEN tenant A's signed video URL
    video_id = cloud.call("POST", "/videos", body=REQUEST, tenant="tenant-a").body["video_id"]
    cloud.context.jobs.succeed("tenant-a", video_id, {"video": f"jobs/tenant-a/{video_id}/video.mp4"}, VideoUsage(), 0.0)
    url = urlsplit(cloud.call("GET", f"/videos/{video_id}", tenant="tenant-a").body["outputs"]["video_url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    signer = LocalUrlSigner(URL_SECRET)
    # WHEN its signature is reused for another path, or its expiry is stretched
    other = url.path.replace("tenant-a", "tenant-b")
    # THEN neither verifies; only the exact URL does
    assert signer.verify(other, query["expires"], query["signature"]) is None
    assert signer.verify(url.path, str(int(query["expires"]) + 3600), query["signature"]) is None
    assert signer.verify(url.path, query["expires"], query["signature"]) == f"jobs/tenant-a/{video_id}/video.mp4"


def test_an_event_without_the_authorizers_tenant_is_a_401(cloud):
    # (defence in depth: the route is never deployed without the authorizer)
    response = cloud.call("GET", "/videos", tenant=None)
    assert response.status == 401 and response.body["error"] == "unauthorized"

"""Bad client input gets a 4xx that names what is wrong, never a 5xx (acceptance 2)."""

from __future__ import annotations

import json
import random

import pytest

from tests.functional.apisupport import cloud  # noqa: F401 - the fixture

GOOD = {"topic": "How volcanoes form", "duration_seconds": 15}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "topic"),
        ({"topic": "ab"}, "topic"),
        ({"topic": "x" * 301}, "topic"),
        ({"topic": "How volcanoes form", "script": "My own narration, long enough to be a script."}, "topic"),
        ({"script": "too short"}, "script"),
        ({**GOOD, "duration_seconds": 5}, "duration_seconds"),
        ({**GOOD, "duration_seconds": 181}, "duration_seconds"),
        ({**GOOD, "duration_seconds": "long"}, "duration_seconds"),
        ({**GOOD, "duration_seconds": 1e400}, "duration_seconds"),
        ({**GOOD, "format": "4:3"}, "format"),
        ({**GOOD, "language": "english!"}, "language"),
        ({**GOOD, "voice": "v" * 101}, "voice"),
        ({**GOOD, "art_style": "cubism"}, "art_style"),
        ({**GOOD, "image_provider": "midjourney"}, "image_provider"),
        ({**GOOD, "optimization_level": "max"}, "optimization_level"),
        ({**GOOD, "music": "loud"}, "music"),
        ({**GOOD, "caption_style": 3}, "caption_style"),
        ({**GOOD, "colour": "red"}, "colour"),
        ({"topic": ["a", "list"]}, "topic"),
        ([GOOD], "body"),
        ("just a string", "body"),
        (42, "body"),
        (None, "body"),
    ],
)
def test_each_malformed_body_is_a_400_naming_the_field(cloud, body, field):
    # WHEN a body breaks the contract
    response = cloud.call("POST", "/videos", body=json.dumps(body))
    # THEN 400 validation_error, and the details name the field with a message
    assert response.status == 400, response.body
    assert response.body["error"] == "validation_error"
    fields = {d["field"] for d in response.body["details"]}
    assert field in fields
    assert all(d["message"] for d in response.body["details"])
    assert cloud.executions() == []


@pytest.mark.parametrize(
    ("raw", "status", "code", "words"),
    [
        (b"", 400, "invalid_body", "empty"),
        (b"   \n", 400, "invalid_body", "empty"),
        (b"not json", 400, "invalid_body", "not valid JSON"),
        (b'{"topic": "unterminated', 400, "invalid_body", "not valid JSON"),
        (b"\xff\xfe{}", 400, "invalid_body", "UTF-8"),
        (b"[" * 30000 + b"]" * 30000, 400, "invalid_body", "nested"),
        (b'{"duration_seconds": 1' + b"0" * 5000 + b"}", 400, "invalid_body", "not valid JSON"),
        (json.dumps({"topic": "t" * 70_000}).encode(), 413, "payload_too_large", "64 KB"),
    ],
)
def test_a_body_that_is_not_a_json_object_or_too_big_gets_a_4xx_with_a_message(cloud, raw, status, code, words):
    response = cloud.call("POST", "/videos", raw=raw)
    assert response.status == status
    assert response.body["error"] == code and words in response.body["message"]


def test_a_script_that_is_too_long_for_180_seconds_is_rejected_naming_script(cloud):
    response = cloud.call("POST", "/videos", body={"script": "word " * 600})
    assert response.status == 400
    [detail] = response.body["details"]
    assert detail["field"] == "script" and "180 s" in detail["message"]


@pytest.mark.parametrize(
    ("body", "field", "script"),
    [({"script": "ფუტკრები ცეკვავენ, რომ აჩვენონ სად არის ყვავილები.", "language": "ka"}, "script", "Georgian"),
     ({**GOOD, "language": "hy"}, "language", "Armenian")],
)
def test_a_request_whose_captions_would_be_boxes_is_a_400_and_starts_nothing(cloud, body, field, script):
    # GIVEN a Georgian script, or an Armenian video: no shipped caption face draws their letters
    response = cloud.call("POST", "/videos", body=body)
    # THEN 400 naming the field and the script, and no video was started (nothing to charge or refund)
    assert response.status == 400, response.body
    [detail] = response.body["details"]
    assert detail["field"] == field and f"captions cannot be drawn in {script} script" in detail["message"]
    assert cloud.call("GET", "/videos").body["videos"] == []


@pytest.mark.parametrize("key", ["has space", "x" * 256, "tab\there", "é-accent"])
def test_a_malformed_idempotency_key_is_a_400_naming_the_header(cloud, key):
    response = cloud.call("POST", "/videos", body=GOOD, headers={"Idempotency-Key": key})
    assert response.status == 400
    assert response.body["details"] == [{"field": "Idempotency-Key", "message": "must be 1 to 255 visible ASCII characters"}]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5"])
def test_a_bad_limit_is_a_400_naming_limit(cloud, limit):
    response = cloud.call("GET", "/videos", query={"limit": limit})
    assert response.status == 400 and response.body["details"][0]["field"] == "limit"


@pytest.mark.parametrize("token", ["garbage!", "eyJ0ZW5hbnRfaWQiOiAidGVuYW50LWEifQ", "W10", "e30"])
def test_a_bad_next_token_is_a_400_naming_next_token(cloud, token):
    response = cloud.call("GET", "/videos", query={"next_token": token})
    assert response.status == 400 and response.body["details"][0]["field"] == "next_token"


@pytest.mark.parametrize("video_id", ["nope", "../../etc/passwd", "a" * 81, "%00", "20261121-101502-8c1f2e3d4a5b"])
def test_an_unknown_or_malformed_video_id_is_a_404(cloud, video_id):
    response = cloud.call("GET", f"/videos/{video_id}")
    assert response.status == 404 and response.body["error"] == "not_found"


def test_an_unknown_route_is_a_json_404(cloud):
    assert cloud.call("GET", "/nothing-here").status == 404


def test_random_bodies_never_get_a_5xx(cloud):
    # GIVEN many random, mostly-wrong bodies (seeded: the same every run)
    rng = random.Random(4)
    values = [None, True, -1, 0, 15, 10**30, 1.5, "", "x", "9:16", "en", "on", [], {}, ["x"], {"a": 1}, "\u0000", "ü" * 40]
    fields = ["topic", "script", "duration_seconds", "format", "language", "voice", "art_style", "image_provider",
              "optimization_level", "music", "caption_style", "extra"]
    for _ in range(150):
        body = {rng.choice(fields): rng.choice(values) for _ in range(rng.randint(0, 5))}
        raw = json.dumps(body).encode()
        if rng.random() < 0.2:
            raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
        # WHEN each is posted
        response = cloud.call("POST", "/videos", raw=raw)
        # THEN the answer is 202 or a 4xx with an error code, never a 5xx
        assert response.status < 500, (raw, response.body)
        assert response.status == 202 or response.body["error"]

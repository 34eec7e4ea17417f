"""GET /voices through the api handler (real-shaped HTTP API v2 events, moto): the voices a request
may name, filtered by language, the offline ones always and edge-tts's when it is the speech provider."""

from __future__ import annotations

import aiohttp
import edge_tts

from faceless.providers.speech.espeak import EspeakSynthesizer

from tests.functional.apisupport import cloud  # noqa: F401 - the fixture


def test_a_languages_voices_come_preferred_first_and_each_is_accepted_by_a_request(cloud):
    # GIVEN the offline speaker WHEN a signed-in caller asks for Spanish voices
    answer = cloud.call("GET", "/voices", query={"language": "es"})
    # THEN 200: Spanish voices only, the one used by default first, each a valid `voice` for a Spanish video
    assert answer.status == 200
    body = answer.body
    assert body["language"] == "es" and body["unavailable"] == {}
    voices = body["voices"]
    assert voices and all(v["provider"] == "offline" and v["language"].startswith("es") for v in voices)
    assert set(voices[0]) == {"name", "language", "gender", "description", "provider"}
    speaker = EspeakSynthesizer()
    for voice in voices:
        speaker.check_voice("es", voice["name"])  # raises InvalidRequestError for a name it would refuse
    accepted = cloud.call("POST", "/videos", body={"topic": "Cómo vuelan las abejas", "language": "es", "voice": voices[-1]["name"]})
    assert accepted.status == 202


def test_without_a_language_every_offline_voice_is_listed(cloud):
    body = cloud.call("GET", "/voices").body
    assert body["language"] is None
    assert len(body["voices"]) > 100 and len({v["language"].split("-")[0] for v in body["voices"]}) > 50


def test_a_malformed_language_is_a_400_naming_it_and_an_unknown_one_lists_nothing(cloud):
    bad = cloud.call("GET", "/voices", query={"language": "e$"})
    assert bad.status == 400 and bad.body["error"] == "validation_error"
    assert bad.body["details"][0]["field"] == "language"
    unknown = cloud.call("GET", "/voices", query={"language": "qq"})
    assert unknown.status == 200 and unknown.body["voices"] == []


def test_no_tenant_is_a_401(cloud):
    assert cloud.call("GET", "/voices", tenant=None).status == 401


def test_with_edge_as_the_speaker_its_voices_follow_or_why_they_are_missing(cloud, monkeypatch):
    # GIVEN edge-tts as the speech provider
    cloud.context.settings = cloud.context.settings.model_copy(update={"speech_provider": "edge"})

    async def voices(**_):
        return [
            {"ShortName": "es-ES-ElviraNeural", "Locale": "es-ES", "Gender": "Female", "FriendlyName": "Elvira"},
            {"ShortName": "en-US-AriaNeural", "Locale": "en-US", "Gender": "Female", "FriendlyName": "Aria"},
        ]

    # WHEN its list is reachable THEN its voices for the language follow the offline ones
    monkeypatch.setattr(edge_tts, "list_voices", voices)
    body = cloud.call("GET", "/voices", query={"language": "es"}).body
    edge = [v for v in body["voices"] if v["provider"] == "edge"]
    assert [v["name"] for v in edge] == ["es-ES-ElviraNeural"] and edge[0]["gender"] == "female"
    assert body["voices"][0]["provider"] == "offline"

    async def unreachable(**_):
        raise aiohttp.ClientConnectionError("Cannot connect to host speech.platform.bing.com:443")

    # WHEN it is not THEN still 200 with the offline voices, and the reason edge's are missing
    monkeypatch.setattr(edge_tts, "list_voices", unreachable)
    answer = cloud.call("GET", "/voices", query={"language": "es"})
    assert answer.status == 200 and answer.body["voices"]
    assert "edge-tts voice list unavailable" in answer.body["unavailable"]["edge"]

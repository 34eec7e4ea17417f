"""`faceless voices [--language xx]`: the offline voices always; edge-tts's when configured, and a
plain 'unavailable' (not a crash) when its list cannot be fetched (no network here)."""

from __future__ import annotations

import io

import aiohttp
import edge_tts

from faceless.runner.cli import main


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_offline_voices_for_a_language(monkeypatch):
    monkeypatch.delenv("FACELESS_SPEECH_PROVIDER", raising=False)
    code, out, _ = run_cli("voices", "--language", "pt-BR")
    assert code == 0
    assert "Offline voices (espeak-ng) for pt-BR" in out
    assert "pt-br" in out and "Portuguese (Brazil)" in out
    assert "edge-tts" not in out


def test_all_offline_voices_without_a_language(monkeypatch):
    monkeypatch.delenv("FACELESS_SPEECH_PROVIDER", raising=False)
    code, out, _ = run_cli("voices")
    assert code == 0
    count = int(out.splitlines()[0].rsplit(":", 1)[1])
    assert count > 100 and len(out.splitlines()) == count + 1


def test_edge_list_unavailable_offline_is_said_not_crashed(monkeypatch):
    async def unreachable(**_):
        raise aiohttp.ClientConnectionError("Cannot connect to host speech.platform.bing.com:443")

    monkeypatch.setenv("FACELESS_SPEECH_PROVIDER", "edge")
    monkeypatch.setattr(edge_tts, "list_voices", unreachable)
    code, out, err = run_cli("voices", "--language", "es")
    assert code == 0, err
    assert "Offline voices (espeak-ng) for es" in out
    assert "edge-tts voices: unavailable" in out


def test_edge_voices_are_listed_when_reachable(monkeypatch):
    async def voices(**_):
        return [
            {"ShortName": "es-ES-ElviraNeural", "Locale": "es-ES", "Gender": "Female", "FriendlyName": "Elvira"},
            {"ShortName": "es-MX-JorgeNeural", "Locale": "es-MX", "Gender": "Male", "FriendlyName": "Jorge"},
            {"ShortName": "en-US-AriaNeural", "Locale": "en-US", "Gender": "Female", "FriendlyName": "Aria"},
        ]

    monkeypatch.setenv("FACELESS_SPEECH_PROVIDER", "edge")
    monkeypatch.setattr(edge_tts, "list_voices", voices)
    code, out, _ = run_cli("voices", "--language", "es")
    assert code == 0
    assert "edge-tts voices for es: 2" in out
    assert "es-ES-ElviraNeural" in out and "es-MX-JorgeNeural" in out and "en-US-AriaNeural" not in out

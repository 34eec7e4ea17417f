"""The voices a request may name, for `faceless voices` and GET /voices alike: espeak-ng's always,
edge-tts's when it is the speech provider (its list needs the network: when it cannot be read, why)."""

from __future__ import annotations

from dataclasses import dataclass

from faceless.errors import FacelessError


@dataclass(frozen=True)
class VoiceCatalog:
    offline: list[dict]  # espeak-ng's (name, language, gender, description, ...), the preferred first
    edge: list[dict] | None = None  # edge-tts's, when it is the speaker and its list could be read
    edge_unavailable: str | None = None  # why edge-tts's list could not be read


def voice_catalog(speech_provider: str, language: str | None = None) -> VoiceCatalog:
    from faceless.providers.speech import espeak  # numpy and the espeak library: only when asked

    offline = espeak.list_voices(language)
    if speech_provider != "edge":
        return VoiceCatalog(offline)
    from faceless.providers.speech import edge

    try:
        return VoiceCatalog(offline, edge=edge.list_voices(language))
    except FacelessError as error:
        return VoiceCatalog(offline, edge_unavailable=str(error))

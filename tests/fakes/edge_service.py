"""edge-tts's service, faked at the library boundary: `edge_tts.Communicate.stream` yields what the
real service sends for the text it was given, or raises what it raises.

What it yields is real-shaped: MP3 chunks (24 kHz mono, 48 kb/s, encoded with ffmpeg from espeak-ng
speech of the very text, after a little leading silence as the service's clips have), interleaved
with `WordBoundary` events whose `offset`/`duration` are 100-ns ticks and whose `text` is the word
without its punctuation (no event for punctuation-only tokens).

    service = FakeEdgeService([NoAudioReceived("..."), "ok"]).install(monkeypatch)
    ...
    service.calls  # [{"text", "voice", "rate", "pitch", "boundary"}, ...]
"""

from __future__ import annotations

import io
import re
import subprocess
import threading
import wave
from dataclasses import dataclass
from xml.sax.saxutils import unescape

import numpy as np

TICKS = 10_000_000
LEAD_SECONDS = 0.2


@dataclass
class Recording:
    mp3: bytes
    boundaries: list[dict]
    word_starts: dict[str, float]  # token -> its start in the recording (s), for assertions


def record(text: str, lead_seconds: float = LEAD_SECONDS) -> Recording:
    """What the service would send for `text`."""
    from faceless.media.ffmpeg import ffmpeg_exe
    from faceless.providers.base import SpeechRequest
    from faceless.providers.speech.espeak import EspeakSynthesizer

    speech = EspeakSynthesizer().synthesize(SpeechRequest(text=text))
    with wave.open(io.BytesIO(speech.wav)) as reader:
        rate = reader.getframerate()
        pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    padded = np.concatenate([np.zeros(int(lead_seconds * rate), dtype="<i2"), pcm, np.zeros(int(0.3 * rate), dtype="<i2")])
    mp3 = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0",
         "-ar", "24000", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3", "pipe:1"],
        input=padded.tobytes(), capture_output=True, check=True,
    ).stdout  # fmt: skip
    boundaries, starts = [], {}
    for word in speech.words:
        spoken = re.sub(r"^\W+|\W+$", "", word.word)
        if not spoken:
            continue
        start = word.start + lead_seconds
        starts.setdefault(word.word, start)
        boundaries.append(
            {"type": "WordBoundary", "offset": round(start * TICKS), "duration": round((word.end - word.start) * TICKS), "text": spoken}
        )
    return Recording(mp3, boundaries, starts)


class FakeEdgeService:
    """Each `stream()` call takes the next outcome: an exception to raise, or "ok" (the default)."""

    def __init__(self, outcomes: list[object] | None = None) -> None:
        self.outcomes = list(outcomes or [])
        self.calls: list[dict] = []
        self._recordings: dict[str, Recording] = {}
        self._lock = threading.Lock()

    def recording(self, text: str) -> Recording:
        with self._lock:
            if text not in self._recordings:
                self._recordings[text] = record(text)
            return self._recordings[text]

    def install(self, monkeypatch) -> FakeEdgeService:
        import edge_tts

        service = self

        async def stream(communicate: edge_tts.Communicate):
            config = communicate.tts_config
            text = unescape(b"".join(communicate.texts).decode("utf-8"))
            with service._lock:
                service.calls.append(
                    {"text": text, "voice": config.voice, "rate": config.rate, "pitch": config.pitch, "boundary": config.boundary}
                )
                outcome = service.outcomes.pop(0) if service.outcomes else "ok"
            if isinstance(outcome, BaseException):
                raise outcome
            recording = service.recording(text)
            events = iter(recording.boundaries)
            for start in range(0, len(recording.mp3), 4096):  # audio frames and metadata interleave
                yield {"type": "audio", "data": recording.mp3[start : start + 4096]}
                event = next(events, None)
                if event is not None:
                    yield dict(event)
            for event in events:
                yield dict(event)

        monkeypatch.setattr(edge_tts.Communicate, "stream", stream)
        return self

"""The offline music provider: an ambient bed synthesised with numpy, one recipe per mood.

Each mood is a chord progression played by soft pads (several detuned oscillators per note with
slow attack and release, band-limited wavetables for a low-passed softness), plus a few mood
touches: a plucked arpeggio and a soft pulse (upbeat), a low drone and swelling chords (dramatic),
suspended chords under a slow tremolo (mysterious), sparse bell notes (calm).

One *phrase* (the progression, once or twice) is rendered as a seamless loop: notes that ring past
its end wrap around to its start, and anything held throughout (drone, tremolo) runs a whole number
of cycles per phrase. The phrase is then repeated to the wanted length, so a long bed costs no more
than a short one, and there is never a click where it repeats.
"""

from __future__ import annotations

import hashlib
import io
import math
import wave
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from faceless.errors import InvalidRequestError

PROVIDER_NAME = "offline"
PEAK_DBFS = -6.0
FADE_IN_SECONDS = 1.0
FADE_OUT_SECONDS = 2.0
MAX_DURATION_SECONDS = 1200.0
MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000
_TABLE_SIZE = 4096  # one wavetable period; nearest-sample lookup is ~ -60 dB of error, far under a pad
_MOOD_ALIASES = {"on": "calm"}

Array = np.ndarray


@dataclass(frozen=True)
class Chord:
    bass: int  # MIDI note
    pad: tuple[int, ...]  # MIDI notes, already voiced


@dataclass(frozen=True)
class MoodRecipe:
    bpm: float
    beats_per_chord: int
    chords: tuple[Chord, ...]
    cycles: int = 1  # times the progression is played in one phrase (the loop)
    pad_attack: float = 0.3  # fractions of a chord's length
    pad_release: float = 0.45
    pad_brightness: float = 1.2  # how slowly the pad's harmonics fall off
    detune_cents: float = 7.0
    drone: tuple[int, ...] = ()  # MIDI notes held for the whole phrase
    arpeggio: bool = False
    pulse: bool = False
    bells: bool = False
    bell_partials: tuple[float, ...] = (1.0, 2.0, 3.0)
    tremolo_hz: float = 0.0
    tremolo_depth: float = 0.0


def _chords(*specs: tuple[int, tuple[int, ...]]) -> tuple[Chord, ...]:
    return tuple(Chord(bass=bass, pad=pad) for bass, pad in specs)


RECIPES: dict[str, MoodRecipe] = {
    # D major, slow and open: Dmaj9 - Bm11 - Gmaj7 - Asus4, with sparse bells.
    "calm": MoodRecipe(
        bpm=66, beats_per_chord=8,
        chords=_chords((38, (54, 57, 61, 64)), (35, (54, 57, 62, 64)), (43, (54, 59, 62, 66)), (45, (52, 57, 62, 64))),
        cycles=2, pad_attack=0.35, pad_release=0.5, pad_brightness=1.1, bells=True,
    ),
    # G major at 112 bpm: G - D - Em - C, an eighth-note plucked arpeggio and a soft four-on-the-floor.
    "upbeat": MoodRecipe(
        bpm=112, beats_per_chord=8,
        chords=_chords((43, (55, 59, 62, 67)), (38, (54, 57, 62, 66)), (40, (55, 59, 64, 67)), (36, (55, 60, 64, 67))),
        cycles=2, pad_attack=0.12, pad_release=0.3, pad_brightness=1.6, detune_cents=9.0, arpeggio=True, pulse=True,
    ),
    # D minor: Dm - Bb - Gm - A, chords swelling over a low D drone.
    "dramatic": MoodRecipe(
        bpm=72, beats_per_chord=8,
        chords=_chords((38, (53, 57, 62, 65)), (34, (53, 58, 62, 65)), (31, (55, 58, 62, 67)), (33, (52, 57, 61, 64))),
        cycles=1, pad_attack=0.75, pad_release=0.35, pad_brightness=1.4, detune_cents=11.0, drone=(26, 38),
    ),
    # Suspended, unresolved: Asus2 - Fsus2(#11) - Dsus4 - Esus4, a slow tremolo and glassy bells.
    "mysterious": MoodRecipe(
        bpm=54, beats_per_chord=8,
        chords=_chords((33, (57, 59, 64, 69)), (41, (53, 55, 60, 71)), (38, (55, 57, 62, 67)), (40, (57, 59, 64, 69))),
        cycles=1, pad_attack=0.4, pad_release=0.5, pad_brightness=0.9, bells=True,
        bell_partials=(1.0, 2.76, 5.4), tremolo_hz=1.6, tremolo_depth=0.4,
    ),
}
MOODS = tuple(RECIPES)


def recipe_for(mood: str) -> MoodRecipe:
    """The recipe of a mood (case-insensitive; "on" means calm)."""
    name = _MOOD_ALIASES.get(mood.strip().lower(), mood.strip().lower()) if isinstance(mood, str) else None
    if name not in RECIPES:
        raise InvalidRequestError(f"unknown music mood {mood!r}; expected one of {', '.join(MOODS)} (or 'on')")
    return RECIPES[name]


# ---------------------------------------------------------------- building blocks


def midi_to_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


@lru_cache(maxsize=64)
def _wavetable(brightness: float, harmonics: int) -> Array:
    """One period of a soft tone: harmonic n at (1/n)·e^(-(n-1)/brightness), band-limited to `harmonics`."""
    phase = np.arange(_TABLE_SIZE) * (2.0 * np.pi / _TABLE_SIZE)
    table = np.zeros(_TABLE_SIZE)
    for n in range(1, max(1, harmonics) + 1):
        table += np.sin(n * phase) * math.exp(-(n - 1) / brightness) / n
    table = (table / np.abs(table).max()).astype(np.float32)
    table.setflags(write=False)
    return table


def _tone(freq: float, samples: int, sample_rate: int, brightness: float, start_phase: float) -> Array:
    """A wavetable oscillator; harmonics above ~0.45·sample_rate are left out (no aliasing)."""
    harmonics = int(min(12, max(1, (0.45 * sample_rate) // freq)))
    table = _wavetable(brightness, harmonics)
    position = start_phase * _TABLE_SIZE + np.arange(samples) * (freq * _TABLE_SIZE / sample_rate)
    return table[position.astype(np.int64) & (_TABLE_SIZE - 1)]


def _pad_envelope(samples: int, hold: int, attack: int, release: int) -> Array:
    """Smooth rise over `attack`, hold until `hold`, then a cosine fall over `release`."""
    index = np.arange(samples, dtype=np.float32)
    rise = np.clip(index / max(attack, 1), 0.0, 1.0)
    rise = rise * rise * (3.0 - 2.0 * rise)
    fall = np.clip((index - hold) / max(release, 1), 0.0, 1.0)
    return rise * (0.5 + 0.5 * np.cos(np.pi * fall))


def _taper(envelope: Array, sample_rate: int, seconds: float = 0.05) -> Array:
    """Bring a decaying envelope to exactly zero at its end, so cutting it off cannot click."""
    count = min(len(envelope), int(seconds * sample_rate))
    tapered = envelope.astype(np.float32, copy=True)
    tapered[len(tapered) - count :] *= np.linspace(1.0, 0.0, count, dtype=np.float32)
    return tapered


def _pan(position: float) -> tuple[float, float]:
    """Constant-power gains for a position in -1 (left) .. 1 (right)."""
    angle = (position + 1.0) * np.pi / 4.0
    return math.cos(angle), math.sin(angle)


class LoopBus:
    """A stereo buffer that is one loop long: whatever runs past its end wraps to its start."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.left = np.zeros(length, dtype=np.float32)
        self.right = np.zeros(length, dtype=np.float32)

    def add(self, start: int, mono: Array, pan: float = 0.0, gain: float = 1.0) -> None:
        left_gain, right_gain = _pan(pan)
        offset = 0
        position = start % self.length
        while offset < len(mono):
            count = min(len(mono) - offset, self.length - position)
            piece = mono[offset : offset + count]
            self.left[position : position + count] += piece * (gain * left_gain)
            self.right[position : position + count] += piece * (gain * right_gain)
            offset += count
            position = 0

    def stereo(self) -> Array:
        return np.stack([self.left, self.right])


# ---------------------------------------------------------------- the voices of a phrase


@dataclass(frozen=True)
class _Timing:
    sample_rate: int
    beat: int  # samples per beat
    chord: int  # samples per chord
    phrase: int  # samples per phrase (the loop)


def _timing(recipe: MoodRecipe, sample_rate: int) -> _Timing:
    beat = int(round(sample_rate * 60.0 / recipe.bpm))
    chord = beat * recipe.beats_per_chord
    return _Timing(sample_rate, beat, chord, chord * len(recipe.chords) * recipe.cycles)


def _play_pads(bus: LoopBus, recipe: MoodRecipe, timing: _Timing, rng: np.random.Generator) -> None:
    """Each chord tone as three detuned voices spread across the stereo field, plus a bass."""
    attack, release = int(recipe.pad_attack * timing.chord), int(recipe.pad_release * timing.chord)
    length = timing.chord + release
    envelope = _pad_envelope(length, timing.chord, attack, release)
    detunes = (-recipe.detune_cents, 0.0, recipe.detune_cents)
    pans = (-0.7, 0.0, 0.7)
    for number in range(len(recipe.chords) * recipe.cycles):
        chord = recipe.chords[number % len(recipe.chords)]
        start = number * timing.chord
        # The second time round, the top voice goes up an octave: the same loop, a little development.
        voicing = chord.pad if number < len(recipe.chords) else chord.pad[:-1] + (chord.pad[-1] + 12,)
        for note in voicing:
            for cents, pan in zip(detunes, pans):
                freq = midi_to_hz(note + cents / 100.0)
                tone = _tone(freq, length, timing.sample_rate, recipe.pad_brightness, rng.random())
                bus.add(start, tone * envelope, pan=pan, gain=0.09)
        bass = _tone(midi_to_hz(chord.bass), length, timing.sample_rate, 0.6, rng.random())
        bus.add(start, bass * envelope, gain=0.22)


def _play_drone(bus: LoopBus, recipe: MoodRecipe, timing: _Timing, rng: np.random.Generator) -> None:
    """Low notes held throughout, breathing with the chords; whole cycles per loop, so it is seamless."""
    seconds = timing.phrase / timing.sample_rate
    breathing_cycles = len(recipe.chords) * recipe.cycles
    angle = np.arange(timing.phrase) * (2 * np.pi * breathing_cycles / timing.phrase) - np.pi / 2
    breathing = 0.65 + 0.35 * np.sin(angle)
    for note in recipe.drone:
        for cents, pan in ((-6.0, -0.5), (6.0, 0.5)):
            freq = round(midi_to_hz(note + cents / 100.0) * seconds) / seconds
            tone = _tone(freq, timing.phrase, timing.sample_rate, 2.0, rng.random())
            bus.add(0, tone * breathing.astype(np.float32), pan=pan, gain=0.16)


def _play_arpeggio(bus: LoopBus, recipe: MoodRecipe, timing: _Timing, rng: np.random.Generator) -> None:
    """Eighth notes walking up and down the chord an octave above the pad, plucked (fast decay)."""
    step = timing.beat // 2
    length = int(0.9 * timing.sample_rate)
    index = np.arange(length, dtype=np.float32) / timing.sample_rate
    pluck = _taper(np.exp(-index / 0.22) * np.clip(index / 0.004, 0.0, 1.0), timing.sample_rate)
    for number in range(len(recipe.chords) * recipe.cycles):
        chord = recipe.chords[number % len(recipe.chords)]
        tones = sorted(note + 12 for note in chord.pad)
        pattern = tones + tones[-2:0:-1]  # up then down, without repeating the ends
        for eighth in range(timing.chord // step):
            note = pattern[eighth % len(pattern)]
            accent = 1.0 if eighth % 2 == 0 else 0.75
            tone = _tone(midi_to_hz(note), length, timing.sample_rate, 3.0, rng.random())
            pan = -0.35 if eighth % 2 == 0 else 0.35
            bus.add(number * timing.chord + eighth * step, tone * pluck, pan=pan, gain=0.11 * accent)


def _play_pulse(bus: LoopBus, timing: _Timing, rng: np.random.Generator) -> None:
    """A soft kick on every beat and a brushed tick between them."""
    rate = timing.sample_rate
    kick_length = int(0.45 * rate)
    t = np.arange(kick_length, dtype=np.float64) / rate
    kick_freq = 48.0 + 80.0 * np.exp(-t / 0.035)
    kick = np.sin(2 * np.pi * np.cumsum(kick_freq) / rate) * _taper(np.exp(-t / 0.16) * np.clip(t / 0.003, 0, 1), rate)
    tick_length = int(0.08 * rate)
    tick_t = np.arange(tick_length) / rate
    noise = rng.standard_normal(tick_length + 1)
    tick_envelope = _taper(np.exp(-tick_t / 0.018) * np.clip(tick_t / 0.002, 0, 1), rate, 0.02)
    tick = np.diff(noise) * tick_envelope  # differenced noise: a high hiss
    for beat in range(timing.phrase // timing.beat):
        bus.add(beat * timing.beat, kick.astype(np.float32), gain=0.5)
        bus.add(beat * timing.beat + timing.beat // 2, tick.astype(np.float32), pan=0.2, gain=0.03)


def _play_bells(bus: LoopBus, recipe: MoodRecipe, timing: _Timing, rng: np.random.Generator) -> None:
    """Sparse high notes from the current chord, struck on the beat, ringing long."""
    rate = timing.sample_rate
    length = int(3.5 * rate)
    t = np.arange(length, dtype=np.float32) / rate
    ring = _taper(np.clip(t / 0.005, 0.0, 1.0), rate, 0.3)
    beat = timing.beat
    position = 2 * beat
    while position < timing.phrase:
        chord = recipe.chords[(position // timing.chord) % len(recipe.chords)]
        note = int(rng.choice(chord.pad)) + 24
        freq = midi_to_hz(note)
        bell = np.zeros(length, dtype=np.float32)
        for number, ratio in enumerate(recipe.bell_partials):
            if freq * ratio < 0.45 * rate:
                decay = 1.4 / (1.0 + number)
                partial = np.sin(2 * np.pi * freq * ratio * t + rng.random() * 6.28).astype(np.float32)
                bell += partial * np.exp(-t / decay) / (1 + number * 1.5)
        bell *= ring
        bus.add(position, bell, pan=float(rng.uniform(-0.6, 0.6)), gain=0.05)
        position += beat * int(rng.integers(3, 7))


def _add_space(stereo: Array, sample_rate: int) -> Array:
    """A few ping-pong echoes (circular, so the loop stays seamless): a sense of room."""
    wet = np.zeros_like(stereo)
    for milliseconds, gain, cross in ((137, 0.32, True), (229, 0.26, False), (347, 0.2, True), (521, 0.15, False),
                                      (769, 0.1, True)):
        shift = int(sample_rate * milliseconds / 1000)
        source = stereo[::-1] if cross else stereo
        wet += np.roll(source, shift, axis=1) * gain
    return stereo + wet


def _tremolo(stereo: Array, recipe: MoodRecipe, timing: _Timing) -> Array:
    if recipe.tremolo_depth <= 0:
        return stereo
    cycles = max(1, round(recipe.tremolo_hz * timing.phrase / timing.sample_rate))  # whole cycles per loop
    lfo = 0.5 + 0.5 * np.sin(np.arange(timing.phrase) * (2 * np.pi * cycles / timing.phrase))
    return stereo * (1.0 - recipe.tremolo_depth * lfo).astype(np.float32)


@lru_cache(maxsize=2)
def render_loop(mood: str, sample_rate: int) -> Array:
    """One seamless phrase of `mood` as a read-only (2, samples) float32 array, peak 1.0."""
    recipe = recipe_for(mood)
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(f"ambient|{mood}".encode()).digest()[:8], "big"))
    timing = _timing(recipe, sample_rate)
    bus = LoopBus(timing.phrase)
    _play_pads(bus, recipe, timing, rng)
    if recipe.drone:
        _play_drone(bus, recipe, timing, rng)
    if recipe.arpeggio:
        _play_arpeggio(bus, recipe, timing, rng)
    if recipe.bells:
        _play_bells(bus, recipe, timing, rng)
    stereo = _tremolo(_add_space(bus.stereo(), sample_rate), recipe, timing)
    if recipe.pulse:  # after the echoes: a kick in a room of echoes turns to mud
        pulse_bus = LoopBus(timing.phrase)
        _play_pulse(pulse_bus, timing, rng)
        stereo = stereo + pulse_bus.stereo()
    stereo = (stereo / np.abs(stereo).max()).astype(np.float32)
    stereo.setflags(write=False)
    return stereo


# ---------------------------------------------------------------- the provider


def _validate(duration_seconds: float, sample_rate: int) -> None:
    if not isinstance(duration_seconds, (int, float)) or not math.isfinite(duration_seconds) or duration_seconds <= 0:
        raise InvalidRequestError(f"music duration must be a positive number of seconds, got {duration_seconds!r}")
    if duration_seconds > MAX_DURATION_SECONDS:
        raise InvalidRequestError(f"music duration {duration_seconds} s is over the {MAX_DURATION_SECONDS:.0f} s limit")
    if not isinstance(sample_rate, (int, np.integer)) or not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise InvalidRequestError(
            f"sample rate must be an integer in {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE}, got {sample_rate!r}")


def _to_pcm(stereo: Array) -> Array:
    """(2, samples) floats in -1..1 -> (samples, 2) little-endian 16-bit integers."""
    return np.clip(np.round(stereo.T * 32767.0), -32768, 32767).astype("<i2")


def _fade_edges(pcm: Array, sample_rate: int) -> None:
    """Raised-cosine fade in and out, in place: silent at both ends, no click."""
    frames = len(pcm)
    for seconds, at_start in ((FADE_IN_SECONDS, True), (FADE_OUT_SECONDS, False)):
        count = min(frames, int(seconds * sample_rate))
        if count == 0:
            continue
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, count)))[:, None]
        edge = slice(0, count) if at_start else slice(frames - count, frames)
        pcm[edge] = np.round(pcm[edge] * (ramp if at_start else ramp[::-1])).astype("<i2")


def encode_wav(pcm: Array, sample_rate: int) -> bytes:
    """(samples, 2) 16-bit integers -> a stereo PCM WAV."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(np.ascontiguousarray(pcm, dtype="<i2").tobytes())
    return buffer.getvalue()


class AmbientMusicComposer:
    """Deterministic ambient beds, synthesised locally."""

    name = PROVIDER_NAME

    def compose(self, mood: str, duration_seconds: float, sample_rate: int = 48_000) -> bytes:
        recipe_for(mood)  # unknown moods fail first, with the clearest message
        _validate(duration_seconds, sample_rate)
        canonical = _MOOD_ALIASES.get(mood.strip().lower(), mood.strip().lower())
        # Scale and quantise one loop, then repeat the 16-bit frames: long beds stay cheap in memory.
        loop = _to_pcm(render_loop(canonical, sample_rate) * 10.0 ** (PEAK_DBFS / 20.0))
        frames = int(math.ceil(duration_seconds * sample_rate))
        bed = np.tile(loop, (-(-frames // len(loop)), 1))[:frames]
        _fade_edges(bed, sample_rate)
        return encode_wav(bed, sample_rate)

"""The sound track, in one audio pass over the whole video (whichever way the picture was rendered):

1. narration: each voice resampled to 48 kHz and padded with silence (or cut) to its segment's exact
   sample count, so segment k's voice starts on the sample where its first frame starts;
2. music (optional): looped, trimmed to the video, faded in and out, set MUSIC_BELOW_VOICE_DB under
   the voice, and ducked under speech by `sidechaincompress` keyed on the narration (the key is
   boosted and soft-clipped, so the dip is the same ~13 dB for a loud or a soft voice);
3. the mix normalised (measured with `ebur128`, then one gain, plus a 4x oversampled look-ahead
   limiter only if the peaks need it, what it takes away measured in a quick pass and made up) to
   −14 LUFS integrated with true peak ≤ −1 dBTP (−1.5 aimed, AAC adds a little), encoded to AAC.
"""

from __future__ import annotations

import math
import re
import subprocess
import wave
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from faceless.errors import RenderError
from faceless.media.ffmpeg import THREADS, run_ffmpeg
from faceless.media.timeline import AUDIO_RATE, Timeline, sample_at_frame

TARGET_LUFS = -14.0
TARGET_TRUE_PEAK = -1.5  # aimed: the AAC encoder's overshoot keeps the result under -1 dBTP
MUSIC_BELOW_VOICE_DB = 12.0  # music level in the pauses, under the voice's mean level
DUCK_KEY_BOOST_DB = 40.0  # the narration, boosted and soft-clipped, keys the compressor: any voice saturates it
DUCK_THRESHOLD = 0.05  # ~ -26 dBFS: the clipped key sits ~25 dB over it
DUCK_RATIO = 2.1  # ~25 dB over threshold * (1 - 1/2.1) ~= 13 dB of ducking
MUSIC_FADE_IN_SECONDS = 1.5
MUSIC_FADE_OUT_SECONDS = 2.5
AAC_BITRATE = "192k"
_WAV_BLOCK = 1 << 18  # sample frames read at a time
_ASSUMED_VOICE_MEAN_DB = -20.0  # if the narration is silent there is no level to sit under
_MEAN_VOLUME = re.compile(r"mean_volume:\s*(-?[\d.]+|-inf) dB")
# ebur128's summary (printed at the end of the pass, hence the last match)
_EBUR128_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS")
_EBUR128_TRUE_PEAK = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS")


# ------------------------------------------------------------------ levels


def _wav_mean_db(path: Path, seconds: float | None = None) -> float | None | str:
    """Mean (RMS) level of a 16-bit PCM WAV in dBFS with numpy; 'unreadable' for other formats."""
    energy, count = 0.0, 0
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2:
                return "unreadable"
            frames = wav.getnframes() if seconds is None else min(wav.getnframes(), int(seconds * wav.getframerate()))
            while frames > 0:  # in blocks: a minute of stereo as float64 would be ~50 MB more at the render's peak
                chunk = np.frombuffer(wav.readframes(min(frames, _WAV_BLOCK)), dtype="<i2").astype(np.float32) / 32768.0
                if chunk.size == 0:
                    break
                energy += float(np.dot(chunk, chunk))
                count += chunk.size
                frames -= chunk.size // wav.getnchannels()
    except (wave.Error, EOFError):
        return "unreadable"
    if count == 0:
        return None
    power = energy / count
    if power <= 1e-9:
        return None
    return 10 * np.log10(power)


def mean_volume_db(path: Path, seconds: float | None = None) -> float | None:
    """Mean (RMS) level of a file's audio in dBFS; None if silent. WAV read directly, else volumedetect."""
    level = _wav_mean_db(path, seconds) if path.suffix.lower() == ".wav" else "unreadable"
    if level != "unreadable":
        return level  # type: ignore[return-value]
    limit = ["-t", f"{seconds:.3f}"] if seconds else []
    done = run_ffmpeg(
        [*limit, "-i", str(path), "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-", "-nostats"],
        what=f"measuring the level of {path}",
        quiet=False,
    )
    found = _MEAN_VOLUME.findall(done.stderr.decode("utf-8", "replace"))
    if not found or found[-1] == "-inf" or float(found[-1]) <= -90.0:
        return None
    return float(found[-1])


class Loudness(BaseModel):
    integrated_lufs: float
    true_peak_dbtp: float


def measure_loudness(path: Path) -> Loudness:
    """Integrated loudness and true peak of a file's audio, by ffmpeg's `ebur128` (EBU R128, 4x oversampled peak)."""
    done = run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-", "-nostats"],
        what=f"measuring the loudness of {path}",
        quiet=False,
    )
    return _parse_ebur128(done.stderr, f"measuring the loudness of {path}")


# ------------------------------------------------------------------ narration


def render_narration(voices: list[Path], timeline: Timeline, target: Path) -> Path:
    """One mono 48 kHz WAV: each voice resampled, padded with silence (or cut) to its segment's exact
    sample count, so segment k starts at the sample where frame `start_frame` starts."""
    chains, labels = [], []
    for position, (voice, span) in enumerate(zip(voices, timeline.spans, strict=True)):
        samples = sample_at_frame(span.end_frame, timeline.fps) - sample_at_frame(span.start_frame, timeline.fps)
        chains.append(
            f"[{position}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=mono,"
            f"apad=whole_len={samples},atrim=end_sample={samples},asetpts=N/SR/TB[n{position}]"
        )
        labels.append(f"[n{position}]")
    graph = ";".join(chains) + f";{''.join(labels)}concat=n={len(labels)}:v=0:a=1[narration]"
    inputs = [arg for voice in voices for arg in ("-i", str(voice))]
    run_ffmpeg(
        [*inputs, "-filter_complex", graph, "-map", "[narration]", "-c:a", "pcm_s16le", "-ar", str(AUDIO_RATE),
         str(target)],
        what="joining the narration",
    )  # fmt: skip
    return target


# ------------------------------------------------------------------ mix


def music_gain_db(narration: Path, music: Path, seconds: float) -> float:
    """Gain that puts the music's mean level MUSIC_BELOW_VOICE_DB under the narration's."""
    voice = mean_volume_db(narration) or _ASSUMED_VOICE_MEAN_DB
    bed = mean_volume_db(music, seconds)
    if bed is None:
        return 0.0
    return round(voice - MUSIC_BELOW_VOICE_DB - bed, 2)


def mix_graph(narration_input: int, music_input: int | None, total_samples: int, gain_db: float) -> str:
    """Filter graph ending in [mix]: stereo 48 kHz narration, plus the ducked music bed if any."""
    voice = (
        f"[{narration_input}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=mono,"
        f"apad=whole_len={total_samples},atrim=end_sample={total_samples},asetpts=N/SR/TB"
    )
    if music_input is None:
        return f"{voice},pan=stereo|c0=c0|c1=c0[mix]"
    seconds = total_samples / AUDIO_RATE
    fade_in = min(MUSIC_FADE_IN_SECONDS, seconds / 4)
    fade_out = min(MUSIC_FADE_OUT_SECONDS, seconds / 4)
    music = (
        f"[{music_input}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
        f"atrim=end_sample={total_samples},asetpts=N/SR/TB,volume={gain_db:.2f}dB,"
        f"afade=t=in:d={fade_in:.3f},afade=t=out:st={max(0.0, seconds - fade_out):.3f}:d={fade_out:.3f}"
    )
    return (
        f"{voice},asplit=2[voice][keyraw];"
        f"[keyraw]volume={DUCK_KEY_BOOST_DB:.0f}dB,asoftclip=type=tanh,pan=stereo|c0=c0|c1=c0[key];"
        f"{music}[bed];"
        f"[bed][key]sidechaincompress=threshold={DUCK_THRESHOLD}:ratio={DUCK_RATIO}:attack=15:release=250:"
        "knee=2:detection=rms:link=maximum[ducked];"
        "[voice]pan=stereo|c0=c0|c1=c0[voice2];"
        "[voice2][ducked]amix=inputs=2:duration=first:normalize=0:dropout_transition=0[mix]"
    )


def _db_to_amplitude(db: float) -> float:
    return float(10 ** (db / 20))


def _silent(loudness: Loudness) -> bool:
    return not math.isfinite(loudness.integrated_lufs) or loudness.integrated_lufs < -70


def _gain_db(loudness: Loudness, extra_gain_db: float = 0.0) -> float:
    """The gain that brings a mix measured at `loudness` to TARGET_LUFS, plus `extra_gain_db`."""
    return TARGET_LUFS - loudness.integrated_lufs + extra_gain_db


def needs_limiter(loudness: Loudness, extra_gain_db: float = 0.0) -> bool:
    """Whether the gain that brings a mix measured at `loudness` to TARGET_LUFS (plus `extra_gain_db`)
    would lift its true peak over TARGET_TRUE_PEAK."""
    return not _silent(loudness) and loudness.true_peak_dbtp + _gain_db(loudness, extra_gain_db) > TARGET_TRUE_PEAK


def normalise_filter(loudness: Loudness, extra_gain_db: float = 0.0) -> str:
    """The pass-2 filter that brings a mix measured at `loudness` to TARGET_LUFS: one gain (the mix's
    dynamics untouched) when the true peak allows it, else the gain followed by a look-ahead limiter
    (latency-compensated, so nothing moves in time) holding the peaks under the target."""
    if _silent(loudness):
        return "anull"  # silence: nothing to normalise
    chain = f"volume={_gain_db(loudness, extra_gain_db):.2f}dB"
    if needs_limiter(loudness, extra_gain_db):
        # a true-peak limiter: limiting the 4x oversampled signal catches the peaks between samples
        chain += f",aresample={4 * AUDIO_RATE},{_limiter()},aresample={AUDIO_RATE}"
    return chain


def _limiter() -> str:
    """The look-ahead limiter holding the peaks under the target (latency-compensated: nothing moves in time)."""
    limit = _db_to_amplitude(TARGET_TRUE_PEAK - 0.3)
    return f"alimiter=limit={limit:.4f}:attack=5:release=50:level=false:latency=true"


def _normalised(mixed: Path, loudness: Loudness) -> str:
    """The encoding pass's filter that brings the mix to TARGET_LUFS: a plain gain when the true peak
    allows it. When the peaks need the limiter: flattening loud peaks also lowers the integrated
    loudness (a few loud clicks can weigh 1-2 LU), so one quick pass measures what the limiter takes
    away, at the sample rate (the bench's mix and the demo's lose the same 0.50 LU there as 4x
    oversampled, for a third of the CPU), and the encoding pass limits once, 4x oversampled, with that
    loss made up (limiting the louder mix loses a little more again: it is not measured again)."""
    if not needs_limiter(loudness):
        return normalise_filter(loudness)
    done = run_ffmpeg(
        ["-i", str(mixed), "-af", f"volume={_gain_db(loudness):.2f}dB,{_limiter()},ebur128=framelog=quiet",
         "-f", "null", "-", "-nostats"],
        what="measuring the limited sound track",
        quiet=False,
    )  # fmt: skip
    return normalise_filter(loudness, TARGET_LUFS - _parse_integrated(done.stderr, "measuring the limited sound track"))


def _summary_value(stderr: bytes, pattern: re.Pattern[str], what: str) -> float:
    found = pattern.findall(stderr.decode("utf-8", "replace"))
    if not found:
        raise RenderError(f"{what}: no ebur128 summary from ffmpeg")
    return float("-inf") if found[-1] == "-inf" else float(found[-1])


def _parse_integrated(stderr: bytes, what: str) -> float:
    return _summary_value(stderr, _EBUR128_INTEGRATED, what)


def _parse_ebur128(stderr: bytes, what: str) -> Loudness:
    return Loudness(
        integrated_lufs=_summary_value(stderr, _EBUR128_INTEGRATED, what),
        true_peak_dbtp=_summary_value(stderr, _EBUR128_TRUE_PEAK, what),
    )


def render_soundtrack(narration: Path, music: Path | None, total_samples: int, target: Path) -> Path:
    """Narration (+ ducked music) mixed, loudness-normalised and encoded to AAC in `target` (.m4a).
    Pass 1 mixes to a float WAV and measures it (ebur128: integrated loudness, 4x oversampled true
    peak); the last pass applies the gain (and the limiter, if the peaks need it) and encodes. Only if
    they need it, a quick pass between them measures the loudness the limiter takes away (see `_normalised`).
    """
    inputs = ["-i", str(narration)]
    music_input, gain = None, 0.0
    if music is not None:
        gain = music_gain_db(narration, music, total_samples / AUDIO_RATE)
        inputs += ["-stream_loop", "-1", "-i", str(music)]
        music_input = 1
    mixed = target.with_name(target.stem + ".mix.wav")
    graph = (
        mix_graph(0, music_input, total_samples, gain)
        + ";[mix]asplit=2[keep][measure];[measure]ebur128=peak=true:framelog=quiet[m]"
    )
    done = run_ffmpeg(
        [*inputs, "-filter_complex", graph, "-map", "[keep]", "-c:a", "pcm_f32le", str(mixed),
         "-map", "[m]", "-f", "null", "-", "-nostats"],
        what="mixing the sound track",
        quiet=False,
    )  # fmt: skip
    loudness = _parse_ebur128(done.stderr, "mixing the sound track")
    chain = _normalised(mixed, loudness)
    run_ffmpeg(
        ["-i", str(mixed), "-af", f"{chain},atrim=end_sample={total_samples}", *audio_codec_args(), str(target)],
        what="encoding the sound track",
    )  # fmt: skip
    mixed.unlink(missing_ok=True)
    return target


def audio_codec_args() -> list[str]:
    # the "fast" coder: half the CPU of the default two-loop search, transparent at this bitrate; no
    # mid/side search (40% of the encoder's time, measured): at 96 kb/s a channel plain L/R is as clean
    return [
        "-c:a", "aac", "-aac_coder", "fast", "-aac_ms", "0", "-b:a", AAC_BITRATE, "-ar", str(AUDIO_RATE),
        "-ac", "2", "-threads", str(THREADS),
    ]  # fmt: skip


def decode_pcm(path: Path, channels: int = 1) -> np.ndarray:
    """A file's audio as float32 samples at 48 kHz (mono by default), via ffmpeg."""
    done = run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", "-ac", str(channels), "-ar", str(AUDIO_RATE), "-f", "f32le", "-"],
        what=f"decoding {path}",
        stdout=subprocess.PIPE,
    )
    return np.frombuffer(done.stdout, np.float32)

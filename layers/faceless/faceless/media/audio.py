"""The sound track: narration clips padded to their frame-exact lengths and joined, then music laid
under it (looped, trimmed, faded, ~18 dB below the voice, ducked further while someone speaks)."""

from __future__ import annotations

import re
from pathlib import Path

from faceless.media.ffmpeg import THREADS, run_ffmpeg
from faceless.media.timeline import AUDIO_RATE, Timeline, sample_at_frame

MUSIC_BELOW_VOICE_DB = 18.0
MUSIC_FADE_IN_SECONDS = 1.5
MUSIC_FADE_OUT_SECONDS = 2.5
_ASSUMED_VOICE_MEAN_DB = -20.0  # if the narration is silent there is no level to sit under
_MEAN_VOLUME = re.compile(r"mean_volume:\s*(-?[\d.]+|-inf) dB")


def mean_volume_db(path: Path, seconds: float | None = None) -> float | None:
    """Mean (RMS) level of a file's audio in dBFS, via ffmpeg's volumedetect; None if silent."""
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


def music_gain_db(narration: Path, music: Path, seconds: float) -> float:
    """Gain that puts the music's mean level MUSIC_BELOW_VOICE_DB under the narration's."""
    voice = mean_volume_db(narration) or _ASSUMED_VOICE_MEAN_DB
    bed = mean_volume_db(music, seconds)
    if bed is None:
        return 0.0
    return round(voice - MUSIC_BELOW_VOICE_DB - bed, 2)


def mix_graph(narration_input: int, music_input: int | None, total_samples: int, gain_db: float) -> str:
    """Filter graph ending in [aout]: stereo 48 kHz narration, plus the ducked music bed if any."""
    voice = (
        f"[{narration_input}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=mono,"
        f"atrim=end_sample={total_samples},pan=stereo|c0=c0|c1=c0"
    )
    if music_input is None:
        return f"{voice}[aout]"
    seconds = total_samples / AUDIO_RATE
    fade_in = min(MUSIC_FADE_IN_SECONDS, seconds / 4)
    fade_out = min(MUSIC_FADE_OUT_SECONDS, seconds / 4)
    music = (
        f"[{music_input}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
        f"atrim=end_sample={total_samples},asetpts=N/SR/TB,volume={gain_db:.2f}dB,"
        f"afade=t=in:d={fade_in:.3f},afade=t=out:st={max(0.0, seconds - fade_out):.3f}:d={fade_out:.3f}"
    )
    return (
        f"{voice},asplit=2[voice][key];{music}[bed];"
        # ducking: the music dips a few dB more while the voice is above the threshold
        "[bed][key]sidechaincompress=threshold=0.04:ratio=3:attack=20:release=350[ducked];"
        "[voice][ducked]amix=inputs=2:duration=first:normalize=0:dropout_transition=0[aout]"
    )


def audio_codec_args() -> list[str]:
    return ["-c:a", "aac", "-b:a", "192k", "-ar", str(AUDIO_RATE), "-ac", "2", "-threads", str(THREADS)]

"""Benchmark: our assembly against a moviepy baseline written the way the popular open-source
generators write it, on one fixed synthetic input set, in the same run.

Input (made once, deterministic): 12 detailed 1024x1792 pictures (1/f "natural image" texture plus
shapes and lines), 60 s of narration with word timings from the offline espeak-ng provider, a music
bed from the offline ambient composer. Output: 1080x1920, 30 fps, captions, music, AAC.

Each contender runs in its own process; we report its wall time, real-time factor, peak RSS
(the process tree's memory, PSS summed over its processes, sampled every SAMPLE_SECONDS; and the largest
single process's peak RSS, from getrusage), CPU seconds and the ratio of the medians.

    .venv/bin/python bench/render.py                 # ours x3, moviepy x1
    .venv/bin/python bench/render.py --runs 5 --baseline-runs 2
    .venv/bin/python bench/render.py --mode per_segment --skip-baseline
    .venv/bin/python bench/render.py --caption-style karaoke --skip-baseline
    .venv/bin/python bench/render.py --runs 5 --floor /dev/shm   # + x264 alone on our frames, between our runs

moviepy is the optional extra `bench` (`pip install -e ".[bench]"`); it pins pillow < 12, so it may
live in another virtualenv: `--baseline-python /path/to/python` (or FACELESS_BENCH_PYTHON).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

W, H, FPS = 1080, 1920, 30
SEGMENTS = 12
IMAGE_SIZE = (1024, 1792)
# texture strength (grey levels): "natural" is an illustration's fine detail; "heavy" is film-grain-like
# noise over the whole picture, a stress case where x264 alone needs ~0.43x real time on 2 cores
GRAIN = {"natural": 14.0, "heavy": 34.0}
# how often the memory of a contender's process tree is sampled: reading smaps_rollup walks a process's
# page tables under its mmap lock, so sampling every 50 ms slowed the sampled render by ~5% (measured)
SAMPLE_SECONDS = 0.25
NARRATION = (  # ~160 words: 60 s at the offline voice's ~2.65 words per second
    "Honeybees tell each other where the flowers are by dancing. A forager that finds a rich patch "
    "returns to the hive and walks a figure eight on the comb. The angle of the straight run shows the "
    "direction of the food, measured from the sun. The length of the run tells the distance, roughly "
    "one second for every kilometre of flight. Her sisters follow closely, touching her with their "
    "antennae and tasting the nectar she brings. Within minutes dozens of bees leave for the same field. "
    "Scientists decoded this language in the nineteen forties, and it earned a Nobel prize. Later, "
    "robots built like bees were used to test it, and the hive obeyed the robot's dance. When a colony "
    "swarms, scouts dance for new nest sites, and the whole swarm votes with its feet. So the next time "
    "you see a bee on a flower, remember that she may have been told exactly where to go."
)


# ------------------------------------------------------------------ the input set


def _detailed_image(seed: int, path: Path, grain: float = GRAIN["natural"]) -> None:
    import cv2
    import numpy as np

    width, height = IMAGE_SIZE
    rng = np.random.default_rng(seed)
    fy, fx = np.fft.fftfreq(height)[:, None], np.fft.rfftfreq(width)[None, :]
    radius = np.sqrt(fx**2 + fy**2)
    radius[0, 0] = 1.0

    def pink(exponent: float) -> np.ndarray:
        spectrum = (rng.normal(size=radius.shape) + 1j * rng.normal(size=radius.shape)) / radius**exponent
        spectrum[0, 0] = 0
        channel = np.fft.irfft2(spectrum, s=(height, width)).astype(np.float32)
        return (channel - channel.mean()) / channel.std()

    # an illustration's statistics: a graded sky-to-ground backdrop, 1/f texture whose strength varies
    # over the picture (fine detail in places, smooth areas elsewhere), soft out-of-focus blobs
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, bottom = rng.uniform(30, 220, 3), rng.uniform(30, 220, 3)
    backdrop = top * (1 - rows) + bottom * rows
    strength = 0.25 + 0.75 * np.clip(pink(2.6) * 0.6 + 0.5, 0.0, 1.0)[..., None]
    texture = np.stack([pink(1.1) * 0.8 + pink(1.3) * 0.45 for _ in range(3)], axis=2)
    image = np.clip(backdrop + texture * strength * grain, 0, 255).astype(np.uint8)
    blobs = np.zeros_like(image)
    for _ in range(14):
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.circle(blobs, centre, int(rng.integers(30, 160)), colour, -1, cv2.LINE_AA)
    blobs = cv2.GaussianBlur(blobs, (0, 0), 18)
    image = cv2.addWeighted(image, 0.75, blobs, 0.45, 0)
    for i in range(60):
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        if i % 3 == 0:
            cv2.circle(image, (x, y), int(rng.integers(8, 140)), colour, int(rng.choice([-1, 2, 4])), cv2.LINE_AA)
        elif i % 3 == 1:
            corner = (x + int(rng.integers(10, 200)), y + int(rng.integers(10, 200)))
            cv2.rectangle(image, (x, y), corner, colour, int(rng.choice([-1, 3])), cv2.LINE_AA)
        else:
            end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(image, (x, y), end, colour, int(rng.integers(1, 5)), cv2.LINE_AA)
    cv2.imwrite(str(path), image[..., ::-1])


def make_inputs(folder: Path, grain: str = "natural") -> Path:
    """Write the input set into `folder` once; returns its manifest (JSON)."""
    manifest = folder / "manifest.json"
    if manifest.is_file():
        return manifest
    from faceless.providers.base import SpeechRequest
    from faceless.providers.music.ambient import AmbientMusicComposer
    from faceless.providers.speech.espeak import EspeakSynthesizer

    folder.mkdir(parents=True, exist_ok=True)
    words = NARRATION.split()
    per = len(words) / SEGMENTS
    texts = [" ".join(words[round(i * per) : round((i + 1) * per)]) for i in range(SEGMENTS)]
    speech = EspeakSynthesizer()
    segments = []
    for index, text in enumerate(texts):
        image = folder / f"image_{index:02d}.png"
        _detailed_image(1000 + index, image, GRAIN[grain])
        spoken = speech.synthesize(SpeechRequest(text=text, language="en"))
        voice = folder / f"voice_{index:02d}.wav"
        voice.write_bytes(spoken.wav)
        segments.append(
            {"index": index, "image": str(image), "voice": str(voice), "words": [w.model_dump() for w in spoken.words]}
        )
    music = folder / "music.wav"
    music.write_bytes(AmbientMusicComposer().compose("calm", 75.0))
    manifest.write_text(json.dumps({"segments": segments, "music": str(music)}, indent=1), encoding="utf-8")
    return manifest


# ------------------------------------------------------------------ contenders (run in a child process)


def run_ours(
    manifest: Path, out: Path, mode: str, x264_threads: int | None = None, caption_style: str = "bold"
) -> float:
    from faceless.media import assemble as assembly
    from faceless.media.assemble import AssemblyJob, AssemblySegment, RenderMode, assemble
    from faceless.models import CaptionStyle, WordTiming

    if x264_threads is not None:
        assembly.X264_THREADS = x264_threads

    data = json.loads(manifest.read_text(encoding="utf-8"))
    job = AssemblyJob(
        segments=[
            AssemblySegment(
                index=s["index"], image_path=Path(s["image"]), voice_path=Path(s["voice"]),
                words=[WordTiming(**w) for w in s["words"]],
            )  # fmt: skip
            for s in data["segments"]
        ],
        music_path=Path(data["music"]),
        width=W,
        height=H,
        fps=FPS,
        title="How honeybees tell each other where the flowers are",
        workdir=out,
        mode=RenderMode(mode),
        caption_style=CaptionStyle(caption_style),
    )
    return assemble(job).duration_seconds


def _moviepy_main(manifest: Path, out: Path, font: str) -> float:
    """The popular generators' way: ImageClip + resized(lambda t) zoom, a TextClip per caption,
    CompositeAudioClip for voice + music, write_videofile with libx264 veryfast."""
    from moviepy import (
        AudioFileClip,
        CompositeAudioClip,
        CompositeVideoClip,
        ImageClip,
        TextClip,
        afx,
        concatenate_audioclips,
        concatenate_videoclips,
    )

    data = json.loads(manifest.read_text(encoding="utf-8"))
    scenes, voices, captions, start = [], [], [], 0.0
    for segment in data["segments"]:
        voice = AudioFileClip(segment["voice"])
        duration = voice.duration
        image = ImageClip(segment["image"]).with_duration(duration)
        scale = max(W / image.w, H / image.h)
        image = image.resized(scale).cropped(x_center=image.w * scale / 2, y_center=image.h * scale / 2, width=W, height=H)
        zoom = image.resized(lambda t: 1 + 0.04 * t).with_position("center")  # the usual Ken Burns
        scenes.append(CompositeVideoClip([zoom], size=(W, H)).with_duration(duration))
        voices.append(voice)
        words = segment["words"]
        for i in range(0, len(words), 3):  # three words per caption, the common setting
            chunk = words[i : i + 3]
            end = words[i + 3]["start"] if i + 3 < len(words) else duration
            text = TextClip(
                font=font, text=" ".join(w["word"] for w in chunk).upper(), font_size=96, color="white",
                stroke_color="black", stroke_width=4, method="caption", size=(int(W * 0.8), None),
            )  # fmt: skip
            captions.append(
                text.with_start(start + chunk[0]["start"]).with_duration(max(0.05, end - chunk[0]["start"]))
                .with_position(("center", int(H * 0.62)))
            )  # fmt: skip
        start += duration
    video = concatenate_videoclips(scenes)
    narration = concatenate_audioclips(voices)
    music = AudioFileClip(data["music"]).with_effects([afx.AudioLoop(duration=video.duration), afx.MultiplyVolume(0.12)])
    final = CompositeVideoClip([video, *captions], size=(W, H)).with_audio(CompositeAudioClip([narration, music]))
    out.mkdir(parents=True, exist_ok=True)
    final.write_videofile(
        str(out / "video.mp4"), fps=FPS, codec="libx264", preset="veryfast", audio_codec="aac", threads=2, logger=None
    )
    return video.duration


# ------------------------------------------------------------------ measuring a child process tree


def _tree_memory_bytes(root: int) -> int:
    """Memory of a process tree now: the sum of its processes' PSS (proportional set size), so the pages
    they share (the ffmpeg binary mapped by two ffmpegs, libraries) count once, not once per process."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(command: list[str]) -> dict[str, float]:
    """Run `command`; wall seconds, peak summed PSS of its process tree, and the largest process's
    peak RSS (getrusage of the waited-for children, measured in a fresh wrapper process)."""
    wrapper = (
        "import resource, subprocess, sys, json; code = subprocess.call(sys.argv[1:]); "
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(json.dumps({'code': code, 'maxrss_kb': usage.ru_maxrss, 'cpu': usage.ru_utime + usage.ru_stime}))"
    )
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-c", wrapper, *command], stdout=subprocess.PIPE, text=True)
    peak, done = 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(SAMPLE_SECONDS):
            peak = max(peak, _tree_memory_bytes(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    wall = time.monotonic() - started
    done.set()
    sampler.join()
    report = json.loads(output.strip().splitlines()[-1])
    if report["code"] != 0:
        raise SystemExit(f"contender failed ({report['code']}): {' '.join(command)}")
    return {
        "wall": wall,
        "cpu": report["cpu"],
        "tree_pss_mb": peak / 2**20,
        "max_process_rss_mb": report["maxrss_kb"] / 1024,
    }


# ------------------------------------------------------------------ the encoder's own speed limit


def stage_frames(manifest: Path, out: Path, frames_file: Path, limit: int) -> float:
    """Our assembly, run once more (not timed) with its encoder also writing the raw frames it is piped,
    exactly as x264 gets them (static captions already composited), to `frames_file`: the first `limit`."""
    from faceless.media import assemble as assembly

    encode = assembly.encode_command

    def encode_and_keep(*args, **kwargs) -> list[str]:  # noqa: ANN002, ANN003
        command = encode(*args, **kwargs)
        # a second output of the same ffmpeg: the input frames, untouched (-vf applies to the first only)
        return [*command, "-map", "0:v", "-c:v", "rawvideo", "-f", "rawvideo", "-frames:v", str(limit), str(frames_file)]

    assembly.encode_command = encode_and_keep
    return run_ours(manifest, out, "single")


class EncoderFloor:
    """x264 alone, same settings, on the very frames our renderer pipes it: the speed limit no renderer
    feeding this encoder can beat. The frames are staged raw once in `frames_dir` (best a tmpfs such as
    /dev/shm; all of them if it has room, else as many as fit, times then scaled to the whole video);
    each timing runs right after one of ours, as this VM's speed drifts (x264 alone on the same frames
    has taken 44 to 57 s of CPU in runs minutes apart), so ours and the floor see the same machine."""

    def __init__(self, manifest: Path, frames_dir: Path) -> None:
        from faceless.media.encoder import raw_input_args, video_codec_args
        from faceless.media.ffmpeg import ffmpeg_exe

        frame_size = W * H * 3 // 2
        room = (shutil.disk_usage(frames_dir).free - (1 << 30)) // frame_size  # leave a GiB
        self.raw = frames_dir / "faceless-bench-frames.yuv"
        with tempfile.TemporaryDirectory(prefix="faceless-floor-") as out:
            subprocess.run([sys.executable, str(Path(__file__).resolve()), "--run", "frames", "--input", str(manifest),
                            "--out", out, "--frames-file", str(self.raw), "--frames-limit", str(max(1, room))],
                           check=True)  # fmt: skip
            self.frames = round(float((Path(out) / "duration.txt").read_text(encoding="utf-8")) * FPS)
        self.staged = self.raw.stat().st_size // frame_size
        if self.staged < min(300, self.frames):
            self.close()
            raise SystemExit(f"--floor: {frames_dir} had room for {self.staged} raw frames; 300 at least are needed")
        # the input tagged exactly as our encoder's (an untagged one costs a colour conversion pass)
        self.command = [ffmpeg_exe(), "-v", "error", "-y", *raw_input_args(W, H, FPS, str(self.raw)), "-an",
                        *video_codec_args(FPS), "-f", "mp4", os.devnull]  # fmt: skip

    def measure(self) -> dict[str, float]:
        run = measure(self.command)
        scale = self.frames / self.staged
        return {**run, "wall": run["wall"] * scale, "cpu": run["cpu"] * scale}

    def close(self) -> None:
        self.raw.unlink(missing_ok=True)


# ------------------------------------------------------------------ main


def _child(args: argparse.Namespace) -> int:
    manifest, out = Path(args.input), Path(args.out)
    if args.run == "ours":
        duration = run_ours(manifest, out, args.mode, args.x264_threads, args.caption_style)
    elif args.run == "frames":
        duration = stage_frames(manifest, out, Path(args.frames_file), args.frames_limit)
    else:
        duration = _moviepy_main(manifest, out, args.font)
    (out / "duration.txt").write_text(f"{duration:.4f}", encoding="utf-8")
    return 0


def _summary(name: str, runs: list[dict[str, float]], duration: float) -> dict[str, float]:
    wall = statistics.median(r["wall"] for r in runs)
    row = {
        "wall": wall,
        "rtf": wall / duration,
        "cpu": statistics.median(r["cpu"] for r in runs),
        "tree_pss_mb": statistics.median(r["tree_pss_mb"] for r in runs),
        "max_process_rss_mb": statistics.median(r["max_process_rss_mb"] for r in runs),
    }
    walls = ", ".join(f"{r['wall']:.2f}" for r in runs)
    print(
        f"{name:<10} median wall {row['wall']:7.2f} s  RTF {row['rtf']:.3f}  CPU {row['cpu']:7.1f} s"
        f" (CPU / cores / duration {row['cpu'] / (os.cpu_count() or 1) / duration:.3f})"
        f"  peak memory {row['tree_pss_mb']:5.0f} MB (PSS of the tree; largest process RSS {row['max_process_rss_mb']:.0f} MB)"
        f"   runs: [{walls}]"
    )
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of our assembly (median quoted)")
    parser.add_argument("--baseline-runs", type=int, default=1, help="runs of the moviepy baseline")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--mode", default="single", choices=["single", "per_segment"])
    parser.add_argument("--caption-style", default="bold", choices=["bold", "karaoke", "minimal"],
                        help="our captions' style (karaoke's sweeps are burned by the encoder's ass filter)")
    parser.add_argument("--baseline-python", default=os.environ.get("FACELESS_BENCH_PYTHON", sys.executable))
    parser.add_argument("--inputs", help="keep the input set in this folder (default: a temporary one)")
    parser.add_argument("--grain", default="natural", choices=sorted(GRAIN), help="texture of the pictures")
    parser.add_argument("--keep", help="copy the rendered videos into this folder")
    parser.add_argument("--floor", metavar="DIR", help="also time x264 alone on our frames, staged in DIR (/dev/shm)")
    parser.add_argument("--x264-threads", type=int, help="x264 threads for our renderer (0 = x264's choice)")
    parser.add_argument("--run", choices=["ours", "moviepy", "frames"], help=argparse.SUPPRESS)
    parser.add_argument("--frames-file", help=argparse.SUPPRESS)
    parser.add_argument("--frames-limit", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--font", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        return _child(args)

    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    with tempfile.TemporaryDirectory(prefix="faceless-bench-") as temp:
        inputs = Path(args.inputs) if args.inputs else Path(temp) / "inputs"
        started = time.monotonic()
        manifest = make_inputs(inputs, args.grain)
        print(f"input set: {inputs} ({args.grain} texture; made in {time.monotonic() - started:.1f} s)")
        from faceless.media.fonts import anton_path

        script = str(Path(__file__).resolve())
        results: dict[str, list[dict[str, float]]] = {"ours": [], "moviepy": []}
        durations: dict[str, float] = {}  # each contender's video: ours is whole frames, moviepy's is not
        floor = EncoderFloor(manifest, Path(args.floor)) if args.floor else None
        if floor is not None:
            print(f"x264 alone will encode {floor.staged} of our {floor.frames} frames, staged raw in {args.floor}")
            results["floor"] = []
        try:
            plan = [(name, n) for n in range(args.runs) for name in ("ours", "floor") if name in results]
            if not args.skip_baseline:
                plan += [("moviepy", n) for n in range(args.baseline_runs)]
            for name, number in plan:
                if name == "floor":
                    results["floor"].append(floor.measure())
                    print(f"  x264 alone {number + 1}: {results['floor'][-1]['wall']:.2f} s wall, "
                          f"{results['floor'][-1]['cpu']:.1f} s CPU", flush=True)
                    continue
                out = Path(temp) / f"{name}-{number}"
                python = sys.executable if name == "ours" else args.baseline_python
                command = [python, script, "--run", name, "--input", str(manifest), "--out", str(out),
                           "--mode", args.mode, "--font", str(anton_path())]  # fmt: skip
                if name == "ours":
                    command += ["--caption-style", args.caption_style]
                    if args.x264_threads is not None:
                        command += ["--x264-threads", str(args.x264_threads)]
                results[name].append(measure(command))
                durations[name] = float((out / "duration.txt").read_text(encoding="utf-8"))
                run = results[name][-1]
                load = os.getloadavg()[0]
                print(f"  {name} run {number + 1}: {run['wall']:.2f} s wall, {run['cpu']:.1f} s CPU (load {load:.1f})", flush=True)
                if args.keep:
                    Path(args.keep).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(out / "video.mp4", Path(args.keep) / f"{name}-{number}.mp4")
        finally:
            if floor is not None:
                floor.close()
        duration = durations["ours"]
        print(f"\nvideo: {duration:.2f} s, {W}x{H} @ {FPS} fps, {SEGMENTS} segments, captions + music, on {os.cpu_count()} cores")
        ours = _summary("ours", results["ours"], duration)
        if floor is not None:
            alone = _summary("x264 alone", results["floor"], duration)
            print(f"  (on our {floor.staged} of {floor.frames} frames, staged raw, each run after one of ours): "
                  f"ours takes {ours['wall'] / alone['wall']:.2f}x the encoder's own time")
            # the host's speed drifts over minutes: each of ours over the x264 run right after it is steadier
            pairs = [o["wall"] / f["wall"] for o, f in zip(results["ours"], results["floor"], strict=True)]
            print(f"  run by run: {', '.join(f'{r:.3f}' for r in pairs)}x; median {statistics.median(pairs):.3f}x")
        if results["moviepy"]:
            base = _summary("moviepy", results["moviepy"], durations["moviepy"])
            print(f"\nours is {base['wall'] / ours['wall']:.1f}x faster than the moviepy baseline (median walls), "
                  f"{base['cpu'] / ours['cpu']:.1f}x less CPU")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "faceless"))
    raise SystemExit(main())

"""Benchmark: the offline providers' speed, one figure each (median of --runs, after one warm-up).

- a 1080x1920 card per shot (the PNG, plus the scene without its headline as a JPEG);
- three minutes of ambient music, composed from nothing (the phrase cache cleared each run);
- the render bench's ~60 s narration by espeak-ng, with word timings (real-time factor).

    .venv/bin/python bench/providers.py [--runs 5]

Speed is measured here, on demand, not by timed unit tests: the machine is small and noisy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "faceless"))

from faceless.models import ArtStyle, Shot  # noqa: E402
from faceless.providers.base import ImageRequest, SpeechRequest  # noqa: E402
from faceless.providers.images.cards import CardImageGenerator  # noqa: E402
from faceless.providers.music.ambient import AmbientMusicComposer, render_loop  # noqa: E402
from faceless.providers.speech.espeak import EspeakSynthesizer  # noqa: E402
from render import NARRATION  # noqa: E402  (the render bench's fixed ~60 s narration)

def median_seconds(work: Callable[[], object], runs: int) -> tuple[float, object]:
    result = work()  # warm-up: fonts, caches, the speech engine
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    cards = CardImageGenerator()
    print(f"offline cards, 1080x1920 (median of {args.runs}):")
    for shot in Shot:
        request = ImageRequest(index=0, prompt="bees", text=NARRATION.split(".")[0], shot=shot,
                               art_style=ArtStyle.cinematic, width=1080, height=1920, seed=7)  # fmt: skip
        seconds, image = median_seconds(lambda request=request: cards.generate(request), args.runs)
        clean = len(image.clean_data) if image.clean_data else 0
        print(f"  {shot.value:<10} {seconds * 1000:6.0f} ms   PNG {len(image.data) / 1e6:.1f} MB, clean JPEG {clean / 1e6:.2f} MB")

    def three_minutes() -> bytes:
        render_loop.cache_clear()  # from nothing, as a fresh process composes it
        return AmbientMusicComposer().compose("calm", 180)

    seconds, _ = median_seconds(three_minutes, args.runs)
    print(f"ambient music, 180 s from nothing: {seconds:.2f} s (real-time factor {seconds / 180:.4f})")

    speech = EspeakSynthesizer()
    seconds, spoken = median_seconds(lambda: speech.synthesize(SpeechRequest(text=NARRATION, language="en")), args.runs)
    print(f"espeak-ng narration, {spoken.duration_seconds:.1f} s with {len(spoken.words)} word timings: "
          f"{seconds:.2f} s (real-time factor {seconds / spoken.duration_seconds:.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

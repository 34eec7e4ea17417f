"""A stand-in for the Assemble handler: the Outputs a render would return, without rendering.

State-machine tests that are about orchestration (concurrency, retries, progress, the cache)
override AssembleFunction with it; the render itself has its own tests and full runs."""

from __future__ import annotations

from typing import Any


def fake_assemble_handler(render_seconds: float = 0.0):
    def fake_assemble(event: dict[str, Any], context: Any) -> dict[str, Any]:
        job = event["job"]
        prefix = job["prefix"]
        return {
            "video_key": f"{prefix}/video.mp4",
            "captions_srt_key": f"{prefix}/captions.srt",
            "captions_vtt_key": f"{prefix}/captions.vtt",
            "thumbnail_key": f"{prefix}/thumbnail.jpg",
            "script_key": f"{prefix}/script.json",
            "duration_seconds": sum(m["voice"]["duration_seconds"] for m in event["media"]),
            "width": job["plan"]["width"],
            "height": job["plan"]["height"],
            "render_seconds": render_seconds,
        }

    return fake_assemble


fake_assemble = fake_assemble_handler()

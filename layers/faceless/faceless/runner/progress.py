"""Stage and percent of a running video, from the Lambda calls the embedded runner sees."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from faceless.runner.embedded import Invocation

# function -> (label, start %, end %)
STAGES: dict[str, tuple[str, int, int]] = {
    "PlanFunction": ("planning", 0, 3),
    "WriteScriptFunction": ("writing the script", 3, 12),
    "BibleFunction": ("visual bible", 12, 16),
    "ContextFunction": ("analysing", 16, 24),
    "DirectFunction": ("analysing", 16, 24),
    "RefineFunction": ("refining prompts", 24, 27),
    "ImageFunction": ("images and voices", 27, 68),
    "VoiceFunction": ("images and voices", 27, 68),
    "MusicFunction": ("images and voices", 27, 68),
    "AssembleFunction": ("assembling the video", 68, 97),
    "FinalizeFunction": ("finishing", 97, 100),
    "FailFunction": ("failed", 100, 100),
}


@dataclass
class Snapshot:
    stage: str
    percent: int
    detail: str = ""


class ProgressTracker:
    """Feed it the runner's events; read `.snapshot()` at any time (thread-safe)."""

    def __init__(self, segment_count: int | None = None) -> None:
        self.segment_count = segment_count
        self._lock = threading.Lock()
        self._snapshot = Snapshot("starting", 0)
        self._media_done = 0
        self._retries = 0

    def __call__(self, phase: str, invocation: Invocation) -> None:
        label, start, end = STAGES.get(invocation.function, (invocation.function, 0, 0))
        with self._lock:
            if invocation.function == "PlanFunction" and phase == "end" and isinstance(invocation.result, dict):
                self.segment_count = invocation.result["job"]["plan"]["segment_count"]
            if phase == "end" and invocation.error:
                self._retries += 1
            if invocation.function in ("ImageFunction", "VoiceFunction"):
                if phase == "end" and invocation.error is None:
                    self._media_done += 1
                total = 2 * (self.segment_count or 1)
                done = min(self._media_done, total)
                percent = start + (end - start) * done // total
                detail = f"{done // 2}/{self.segment_count} segments" if self.segment_count else ""
                self._snapshot = Snapshot(label, max(percent, self._snapshot.percent), detail)
            else:
                percent = end if phase == "end" else start
                self._snapshot = Snapshot(label, max(percent, self._snapshot.percent))

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(self._snapshot.stage, self._snapshot.percent, self._snapshot.detail)

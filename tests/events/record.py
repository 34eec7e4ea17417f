"""Re-record the real-shaped sample events in tests/events/video/ from one real offline run.

    .venv/bin/python tests/events/record.py

Each file is the first event the state machine sent to that function (job id evt-0001, a 15 s
video at the quality level so that every state, the Bible included, runs).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")

HERE = Path(__file__).parent / "video"


def main() -> None:
    from faceless.bootstrap import build_services, use_services
    from faceless.models import VideoRequest
    from faceless.runner.embedded import EmbeddedRunner
    from faceless.runner.local import make_video
    from faceless.settings import Settings

    with tempfile.TemporaryDirectory() as home:
        services = build_services(Settings(home=Path(home)))
        use_services(services)
        with EmbeddedRunner() as runner:
            request = VideoRequest(topic="how tides work", duration_seconds=15, optimization_level="quality")
            run = make_video(request, runner, services, job_id="evt-0001")
        assert run.succeeded, run.execution.cause
        seen: set[str] = set()
        HERE.mkdir(exist_ok=True)
        for invocation in run.execution.invocations:
            if invocation.function not in seen:
                seen.add(invocation.function)
                (HERE / f"{invocation.function}.json").write_text(json.dumps(invocation.event, indent=1) + "\n")
        # the failure handler's event as the Catch shapes it
        failure = {
            "job_id": "evt-0001",
            "tenant_id": "local",
            "error": {"Error": "ProviderRejectedError", "Cause": json.dumps({"errorType": "ProviderRejectedError", "errorMessage": "the prompt was rejected by the content policy"})},
        }
        (HERE / "FailFunction.json").write_text(json.dumps(failure, indent=1) + "\n")
        print("recorded", sorted(seen | {"FailFunction"}))


if __name__ == "__main__":
    main()

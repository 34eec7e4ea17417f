"""The embedded runner's record of Lambda invokes: kept for tests and one-off runs, not by a server
that would otherwise grow with every video it makes."""

from __future__ import annotations

import json

import pytest

from faceless.runner.embedded import EmbeddedRunner


def invoke(runner: EmbeddedRunner, function: str, payload: dict) -> dict:
    _, response = runner._invoke({"faceless_invoke": {"FunctionName": function, "Payload": json.dumps(payload)}})
    return json.loads(response["Payload"].read())


@pytest.mark.parametrize("keep", [True, False])
def test_invokes_are_recorded_only_when_asked_and_always_reported_to_the_listener(keep):
    # GIVEN a runner (not started: the invoke hook alone) with a handler and a listener
    seen: list[tuple[str, str]] = []
    runner = EmbeddedRunner(listener=lambda phase, call: seen.append((phase, call.function)), keep_invocations=keep)
    runner.overrides["EchoFunction"] = lambda event, _context: {"echo": event["n"]}
    # WHEN three invokes are answered
    answers = [invoke(runner, "EchoFunction", {"n": n}) for n in range(3)]
    # THEN each answer is the handler's; the listener saw every start and end; the record is kept only on request
    assert answers == [{"echo": 0}, {"echo": 1}, {"echo": 2}]
    assert seen == [("start", "EchoFunction"), ("end", "EchoFunction")] * 3
    assert [call.result for call in runner.invocations] == ([{"echo": n} for n in range(3)] if keep else [])

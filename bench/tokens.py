"""Token budget: the agents' prompt and completion tokens per video, at each length and level.

Runs the real agents (storyteller, bible, context, director, refine's dedupe and multi-subject fix)
through the real OpenAI-compatible adapter against a local Chat Completions server
(tests/fakes/chat_server.py) that answers with fixed, realistic replies (bench/fixtures/), and
prints prompt and completion tokens per agent and in total.

Token counts are o200k_base (gpt-4o / gpt-4o-mini). The server counts the messages as OpenAI does
(3 per message + 3 for the reply); OpenAI also bills the `response_format` JSON schema as prompt
tokens, which a Chat Completions server does not report, so we add it (its compact JSON's tokens,
column "schema") to be on the safe side.

    .venv/bin/python bench/tokens.py            # the table, and the budget check
    .venv/bin/python bench/tokens.py --json     # the figures as JSON

Budgets (issue 5): 60 s balanced <= 3,000; 30 s ultra_fast <= 2,000; 90 s quality (with Bible) <= 6,000.
Exit status 1 when one is exceeded.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fakes
sys.path.insert(0, str(ROOT / "layers" / "faceless"))

from faceless.agents import bible as bible_agent  # noqa: E402
from faceless.agents import context as context_agent  # noqa: E402
from faceless.agents import director, refine, storyteller  # noqa: E402
from faceless.models import LlmUsage, OptimizationLevel, VideoRequest  # noqa: E402
from faceless.planning import make_plan  # noqa: E402
from faceless.providers.llm.openai_compat import OpenAICompatibleModel, strict_json_schema  # noqa: E402
from faceless.providers.llm.tokens import count_text_tokens  # noqa: E402
from faceless.settings import Settings  # noqa: E402
from tests.fakes.chat_server import FakeChatServer, schema_name  # noqa: E402

FIXTURES = ROOT / "bench" / "fixtures" / "apollo11_replies.json"
DURATIONS = (30, 60, 90)
LEVELS = (OptimizationLevel.ultra_fast, OptimizationLevel.balanced, OptimizationLevel.quality)
BUDGETS = {(60, "balanced"): 3000, (30, "ultra_fast"): 2000, (90, "quality"): 6000}
AGENT_ORDER = ("storyteller", "bible", "context", "director", "dedupe", "subjects")


@dataclass
class AgentRow:
    agent: str
    calls: int = 0
    prompt: int = 0  # messages, as the server counts them
    schema: int = 0  # the response_format schema, billed as prompt tokens too
    completion: int = 0

    @property
    def total(self) -> int:
        return self.prompt + self.schema + self.completion


@dataclass
class Run:
    duration: int
    level: str
    segments: int
    rows: dict[str, AgentRow] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(r.total for r in self.rows.values())


def _fix_reply(body: dict) -> dict:
    """Dedupe / multi-subject replies: one rewritten prompt per item sent, as a model writes them."""
    user = body["messages"][-1]["content"]
    items = []
    for line in user.splitlines():
        found = re.match(r"i=(\d+) \|(?: who: (?P<who>[^|]+) \|)? text: .*? \| p: (?P<p>.*)$", line)
        if not found:
            continue
        prompt = found.group("p").split()
        if found.group("who"):  # place each person, then the scene
            people = [name.strip() for name in found.group("who").split(",")]
            sides = ["left", "right", "centre", "background"]
            placed = ", ".join(f"{sides[n % 4]}: {name}" for n, name in enumerate(people))
            text = f"{placed}, {' '.join(prompt[:18])}"
        else:  # change the angle and the setting detail
            text = f"low-angle view, {' '.join(prompt[:14])}, different background"
        items.append({"i": int(found.group(1)), "p": text})
    return {"items": items}


def responder(replies: dict):
    def respond(body: dict):
        name = schema_name(body)
        if name == "StoryDraft":
            return replies["story"]
        if name == "ContextDraft":
            return replies["context"]
        if name == "ContextLightDraft":
            return replies["context_light"]
        if name == "BibleDraft":
            return replies["bible"]
        if name == "DirectionDraft":
            pieces = len(re.findall(r"^\d+\. ", body["messages"][-1]["content"], flags=re.MULTILINE))
            items = replies["direction"]["items"]
            return {"items": items[:pieces]}
        if name == "PromptFixes":
            return _fix_reply(body)
        return 400

    return respond


SCHEMA_TOKENS: dict[str, int] = {}


def schema_tokens(schema_model) -> int:
    name = schema_model.__name__
    if name not in SCHEMA_TOKENS:
        SCHEMA_TOKENS[name] = count_text_tokens(json.dumps(strict_json_schema(schema_model), separators=(",", ":")))
    return SCHEMA_TOKENS[name]


class RecordingModel(OpenAICompatibleModel):
    """The real adapter, noting which schema each call sent (to add its tokens)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.schemas: list[tuple[str, int]] = []

    def complete(self, request):
        completion = super().complete(request)
        self.schemas.append((request.agent, schema_tokens(request.schema_model) * completion.usage.attempts))
        return completion


def run_one(server: FakeChatServer, fixtures: dict, duration: int, level: OptimizationLevel) -> Run:
    replies = fixtures["durations"][str(duration)]
    server.default_responder = responder(replies)
    llm = RecordingModel(api_key="sk-bench", base_url=server.base_url, max_retries=0)
    request = VideoRequest(
        topic=fixtures["topic"],
        duration_seconds=duration,
        optimization_level=level,
        language=fixtures["language"],
        art_style=fixtures["art_style"],
    )
    plan = make_plan(request, Settings())
    usages: list[LlmUsage] = []
    script, used = storyteller.write_script(llm, request, plan)
    usages += used
    bible = None
    if plan.use_bible:
        bible, used = bible_agent.write_bible(llm, script, plan)
        usages += used
    context, used = context_agent.analyse_context(llm, script, plan)
    usages += used
    segments, used = director.direct(llm, script, plan, request, bible)
    usages += used
    segments, used = refine.refine(llm, segments, context, bible, request, plan)
    usages += used
    run = Run(duration=duration, level=plan.level.value, segments=plan.segment_count)
    for usage in usages:
        row = run.rows.setdefault(usage.agent, AgentRow(usage.agent))
        row.calls += usage.attempts
        row.prompt += usage.prompt_tokens
        row.completion += usage.completion_tokens
    for agent, tokens in llm.schemas:
        run.rows[agent].schema += tokens
    run.rows = {a: run.rows[a] for a in sorted(run.rows, key=lambda a: AGENT_ORDER.index(a) if a in AGENT_ORDER else 99)}
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    fixtures = json.loads(FIXTURES.read_text())
    runs: list[Run] = []
    with FakeChatServer() as server:
        for duration in DURATIONS:
            for level in LEVELS:
                runs.append(run_one(server, fixtures, duration, level))
    failures = []
    for run in runs:
        budget = BUDGETS.get((run.duration, run.level))
        if budget is not None and run.total > budget:
            failures.append(f"{run.duration} s {run.level}: {run.total} > {budget}")
    if args.json:
        print(json.dumps([
            {"duration": r.duration, "level": r.level, "segments": r.segments, "total": r.total,
             "budget": BUDGETS.get((r.duration, r.level)),
             "agents": {a: {"calls": x.calls, "prompt": x.prompt, "schema": x.schema, "completion": x.completion} for a, x in r.rows.items()}}
            for r in runs
        ], indent=1))  # fmt: skip
    else:
        print(f"Tokens per video (o200k_base; topic: {fixtures['topic']!r}); prompt = messages + response_format schema\n")
        for run in runs:
            budget = BUDGETS.get((run.duration, run.level))
            mark = f"   budget {budget:,}: {'OK' if run.total <= budget else 'OVER'}" if budget else ""
            print(f"{run.duration:>3} s  {run.level:<10}  {run.segments:>2} segments   total {run.total:>5,}{mark}")
            print(f"      {'agent':<12}{'calls':>6}{'prompt':>8}{'schema':>8}{'completion':>12}{'total':>8}")
            for row in run.rows.values():
                print(f"      {row.agent:<12}{row.calls:>6}{row.prompt:>8}{row.schema:>8}{row.completion:>12}{row.total:>8}")
            print()
        print("Budgets: " + ("all met" if not failures else "EXCEEDED: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A fake LanguageModel for agent tests: canned drafts per agent, every request recorded."""

from __future__ import annotations

from typing import Any, Callable

from faceless.models import LlmUsage, OptimizationLevel, Plan
from faceless.providers.base import Completion, LlmRequest
from faceless.providers.llm.tokens import count_chat_tokens, count_text_tokens

Answer = dict[str, Any] | Callable[[LlmRequest], dict[str, Any]]


class UnexpectedCall(AssertionError):
    """The code under test called an agent the test did not expect to be called."""


class FakeLanguageModel:
    name = "fake"
    model = "fake-1"

    def __init__(self, answers: dict[str, Answer] | None = None) -> None:
        self.answers = dict(answers or {})
        self.requests: list[LlmRequest] = []

    def complete(self, request: LlmRequest) -> Completion:
        self.requests.append(request)
        if request.agent not in self.answers:
            raise UnexpectedCall(f"unexpected call to agent {request.agent!r}")
        answer = self.answers[request.agent]
        data = answer(request) if callable(answer) else answer
        value = request.schema_model.model_validate(data)
        usage = LlmUsage(
            agent=request.agent,
            provider=self.name,
            model=self.model,
            prompt_tokens=count_chat_tokens(request.messages),
            completion_tokens=count_text_tokens(value.model_dump_json()),
        )
        return Completion(value=value, usage=usage)

    def calls(self, agent: str) -> list[LlmRequest]:
        return [r for r in self.requests if r.agent == agent]


def make_plan(**overrides: Any) -> Plan:
    values: dict[str, Any] = {
        "level": OptimizationLevel.balanced,
        "segment_count": 6,
        "target_words": 78,
        "use_bible": False,
        "dedupe_with_llm": True,
        "context_detail": "full",
        "width": 1080,
        "height": 1920,
        "max_concurrency": 5,
        "music_mood": None,
        "voice": "en",
        "image_provider": "offline",
    }
    values.update(overrides)
    return Plan(**values)

"""OpenAICompatibleModel against a real local Chat Completions server (tests/fakes/chat_server.py).

Nothing here leaves 127.0.0.1: every model gets the fake server's base_url, OPENAI_API_KEY is a
dummy and OPENAI_BASE_URL points at a closed loopback port, so a forgotten base_url fails loudly.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Literal

import pytest
from pydantic import BaseModel, Field

from faceless.errors import (
    ConfigurationError,
    ProviderRejectedError,
    ProviderResponseError,
    ProviderThrottledError,
    TransientProviderError,
)
from faceless.providers.base import ChatMessage, LlmRequest
from faceless.providers.llm.openai_compat import OpenAICompatibleModel, strict_json_schema
from faceless.providers.llm.tokens import count_chat_tokens, count_text_tokens

try:
    from tests.fakes.chat_server import ChatReply, ErrorReply, FakeChatServer, respond_by_schema
except ModuleNotFoundError:  # pytest started without the repo root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.fakes.chat_server import ChatReply, ErrorReply, FakeChatServer, respond_by_schema

DUMMY_KEY = "sk-test-dummy"


# --------------------------------------------------------------------------- schemas used as contracts


class Mood(BaseModel):
    name: Literal["calm", "tense"]
    intensity: int = Field(default=1, ge=0, le=10)


class Beat(BaseModel):
    title: str = Field(min_length=1)  # a *property* named title must survive the title-stripping
    seconds: float
    mood: Mood = Field(description="how the beat feels")
    note: str | None = None


class Outline(BaseModel):
    headline: str
    beats: list[Beat]
    lead: Beat | None = None
    tags: list[str] = Field(default_factory=list)


class Answer(BaseModel):
    text: str
    confidence: float


GOOD_ANSWER = '{"text": "The Nile", "confidence": 0.9}'


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def loopback_only_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", DUMMY_KEY)
    # A closed loopback port: if any client ignored our base_url it would fail, not go online.
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as running:
        yield running


@pytest.fixture
def make_model(server: FakeChatServer) -> Iterator[Any]:
    created: list[OpenAICompatibleModel] = []

    def make(**overrides: Any) -> OpenAICompatibleModel:
        options: dict[str, Any] = {"api_key": DUMMY_KEY, "base_url": server.base_url, "max_retries": 2, "timeout": 5.0}
        options.update(overrides)
        model = OpenAICompatibleModel(**options)
        created.append(model)
        return model

    yield make
    for model in created:
        model.client.close()


def ask(schema: type[BaseModel] = Answer, agent: str = "storyteller") -> LlmRequest:
    return LlmRequest(
        agent=agent,
        messages=[
            ChatMessage(role="system", content="You answer geography questions as JSON."),
            ChatMessage(role="user", content="Which river flows through Cairo?"),
        ],
        schema_model=schema,
        max_tokens=200,
        temperature=0.3,
    )


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema node (dict) of a JSON schema, skipping the names inside `properties`."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key == "properties":
                for sub in value.values():
                    yield from walk(sub)
            else:
                yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


# --------------------------------------------------------------------------- strict schema (no sockets)


def test_strict_schema_of_a_nested_model_is_closed_required_and_inlined() -> None:
    """GIVEN a model nesting models (by field, in a list, optional) with defaults and constraints
    WHEN it is turned into a strict-mode schema
    THEN every object is closed and requires all its properties, refs are inlined, noise is gone."""
    schema = strict_json_schema(Outline)

    objects = [node for node in walk(schema) if node.get("type") == "object"]
    assert len(objects) == 5  # Outline; Beat and its Mood inlined twice (beats[], lead)
    for node in walk(schema):
        assert "$ref" not in node and "$defs" not in node and "allOf" not in node
        assert "title" not in node and "default" not in node and "minLength" not in node
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
            assert node["required"] == list(node["properties"])
    beat = schema["properties"]["beats"]["items"]
    assert beat["required"] == ["title", "seconds", "mood", "note"]
    assert beat["properties"]["mood"]["description"] == "how the beat feels"
    assert beat["properties"]["mood"]["properties"]["name"] == {"enum": ["calm", "tense"], "type": "string"}
    assert beat["properties"]["mood"]["properties"]["intensity"] == {"maximum": 10, "minimum": 0, "type": "integer"}
    assert beat["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    lead_variants = schema["properties"]["lead"]["anyOf"]
    assert lead_variants[0]["required"] == ["title", "seconds", "mood", "note"] and lead_variants[1] == {"type": "null"}
    assert schema["required"] == ["headline", "beats", "lead", "tags"]


def test_strict_schema_rejects_shapes_strict_mode_cannot_express() -> None:
    """GIVEN models with a free-form mapping, an untyped field and a recursive reference
    WHEN they are turned into strict-mode schemas THEN a ConfigurationError names the field."""

    class WithMapping(BaseModel):
        scores: dict[str, int]

    class WithAny(BaseModel):
        payload: Any

    class Node(BaseModel):
        label: str
        children: list[Node]

    with pytest.raises(ConfigurationError, match=r"WithMapping\.scores.*free-form"):
        strict_json_schema(WithMapping)
    with pytest.raises(ConfigurationError, match=r"WithAny\.payload"):
        strict_json_schema(WithAny)
    with pytest.raises(ConfigurationError, match="recursive"):
        strict_json_schema(Node)


# --------------------------------------------------------------------------- happy path


def test_valid_structured_reply_parses_and_records_the_servers_usage(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN a server that answers with a valid Answer under a dated model name
    WHEN the adapter completes a request
    THEN the value parses and usage carries the server's token counts and model, one attempt."""
    server.enqueue(ChatReply(content=GOOD_ANSWER, model="gpt-4o-mini-2024-07-18"))
    request = ask()

    completion = make_model().complete(request)

    assert isinstance(completion.value, Answer)
    assert completion.value == Answer(text="The Nile", confidence=0.9)
    usage = completion.usage
    assert usage.agent == "storyteller" and usage.provider == "openai"
    assert usage.model == "gpt-4o-mini-2024-07-18"
    assert usage.prompt_tokens == count_chat_tokens(request.messages)
    assert usage.completion_tokens == count_text_tokens(GOOD_ANSWER)
    assert usage.attempts == 1
    assert 0 < usage.seconds < 5


def test_request_asks_for_strict_json_schema_output(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN a model named "gpt-test" WHEN it completes an Outline request
    THEN the wire request carries the model, messages, limits and a strict json_schema response_format."""
    outline = Outline(headline="h", beats=[Beat(title="t", seconds=1.5, mood=Mood(name="calm"))])
    server.enqueue(outline)

    completion = make_model(model="gpt-test").complete(ask(Outline))

    assert completion.value == outline
    (body,) = server.requests
    assert body["model"] == "gpt-test"
    assert body["messages"] == [message.model_dump() for message in ask().messages]
    assert body["max_tokens"] == 200 and body["temperature"] == 0.3
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Outline"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"] == strict_json_schema(Outline)
    assert server.headers[0]["authorization"] == f"Bearer {DUMMY_KEY}"


def test_base_url_is_honoured_over_the_environment(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN OPENAI_BASE_URL pointing at a closed port and an explicit base_url
    WHEN completing THEN the explicit server answers; a base_url without /v1 gets a clear 404."""
    server.enqueue(GOOD_ANSWER)
    assert make_model().complete(ask()).value.text == "The Nile"
    assert len(server.requests) == 1

    wrong_path = make_model(base_url=f"http://127.0.0.1:{server.port}")
    with pytest.raises(ProviderRejectedError, match="not found"):
        wrong_path.complete(ask())


def test_reply_wrapped_in_a_markdown_fence_is_accepted(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN a server that ignores response_format and fences its JSON WHEN completing THEN it parses."""
    server.enqueue(f"```json\n{GOOD_ANSWER}\n```")
    assert make_model().complete(ask()).usage.attempts == 1


def test_server_without_usage_is_counted_locally(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN a server that omits `usage` WHEN completing THEN tokens are counted with o200k_base."""
    server.enqueue(ChatReply(content=GOOD_ANSWER, include_usage=False))
    request = ask()
    usage = make_model().complete(request).usage
    assert usage.prompt_tokens == count_chat_tokens(request.messages)
    assert usage.completion_tokens == count_text_tokens(GOOD_ANSWER)


# --------------------------------------------------------------------------- unusable replies


def test_malformed_reply_then_good_one_succeeds_with_summed_tokens(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN a first reply that is not JSON and a second that is valid
    WHEN completing THEN it succeeds on attempt 2, usage sums both attempts, and the retry
    shows the model its bad reply and what was wrong."""
    bad = "Sure! The answer is the Nile."
    server.enqueue(bad, GOOD_ANSWER)

    completion = make_model().complete(ask())

    assert completion.value.text == "The Nile"
    assert completion.usage.attempts == 2
    first, second = server.requests
    assert completion.usage.prompt_tokens == count_chat_tokens(first["messages"]) + count_chat_tokens(second["messages"])
    assert completion.usage.completion_tokens == count_text_tokens(bad) + count_text_tokens(GOOD_ANSWER)
    assert second["messages"][:2] == first["messages"]
    assert second["messages"][2] == {"role": "assistant", "content": bad}
    assert "not valid JSON" in second["messages"][3]["content"]


def test_malformed_every_time_raises_a_clear_response_error(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN a server that never answers JSON WHEN completing with max_retries=2
    THEN three calls are made and ProviderResponseError names the agent, schema and problem."""
    server.default_responder = lambda body: "I cannot produce JSON today, sorry." * 50

    with pytest.raises(ProviderResponseError) as raised:
        make_model(max_retries=2).complete(ask(agent="director"))

    message = str(raised.value)
    assert len(server.requests) == 3
    assert "'director'" in message and "Answer" in message and "3 attempt" in message
    assert "not valid JSON" in message
    assert len(message) <= 600  # the bad reply is quoted truncated, not in full


def test_schema_mismatch_is_retried(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN valid JSON missing a field, then a valid reply WHEN completing
    THEN it succeeds on attempt 2 and the correction names the missing field."""
    server.enqueue('{"text": "The Nile"}', GOOD_ANSWER)

    completion = make_model().complete(ask())

    assert completion.usage.attempts == 2
    correction = server.requests[1]["messages"][-1]["content"]
    assert "does not match Answer" in correction and "confidence" in correction


def test_cut_off_reply_is_retried_and_reported(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN replies cut off by max_tokens WHEN completing
    THEN each is retried without echoing the fragment, and the final error says it was cut off."""
    cut = ChatReply(content='{"text": "The Ni', finish_reason="length")
    server.enqueue(cut, GOOD_ANSWER)
    assert make_model().complete(ask()).usage.attempts == 2
    assert server.requests[1]["messages"] == server.requests[0]["messages"]

    server.enqueue(cut, cut)
    with pytest.raises(ProviderResponseError, match="cut off at max_tokens=200"):
        make_model(max_retries=1).complete(ask())


def test_refusal_is_rejected_without_retry(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN a refusal WHEN completing THEN ProviderRejectedError quotes it after a single call."""
    server.enqueue(ChatReply(content=None, refusal="I can't help with that request."))
    with pytest.raises(ProviderRejectedError, match="refused.*can't help"):
        make_model().complete(ask())
    assert len(server.requests) == 1


# --------------------------------------------------------------------------- HTTP errors


def test_wrong_api_key_is_rejected_without_retry(make_model: Any) -> None:
    """GIVEN a server expecting another key WHEN completing THEN a 401 becomes ProviderRejectedError."""
    with FakeChatServer(api_key="sk-the-real-one") as guarded:
        model = make_model(base_url=guarded.base_url)
        with pytest.raises(ProviderRejectedError, match="rejected the API key"):
            model.complete(ask())
        assert len(guarded.requests) == 1  # the SDK does not retry a 401


def test_rate_limit_then_success_goes_through_the_sdk_retry(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN a 429 (retry-after-ms 10) then a valid reply WHEN completing
    THEN the SDK retries by itself, quickly, and our attempt count stays 1."""
    server.enqueue(429, GOOD_ANSWER)
    started = time.perf_counter()

    completion = make_model(max_retries=2).complete(ask())

    assert time.perf_counter() - started < 2
    assert completion.value.text == "The Nile"
    assert completion.usage.attempts == 1
    assert len(server.requests) == 2


def test_persistent_rate_limit_is_throttled(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN only 429s WHEN completing with max_retries=1 THEN ProviderThrottledError after 2 calls."""
    server.default_responder = lambda body: 429
    with pytest.raises(ProviderThrottledError, match="429"):
        make_model(max_retries=1).complete(ask())
    assert len(server.requests) == 2


def test_exhausted_quota_is_rejected_not_throttled(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN a 429 with code insufficient_quota WHEN completing THEN waiting cannot help: Rejected."""
    server.enqueue(ErrorReply(429, message="You exceeded your current quota.", type="insufficient_quota", code="insufficient_quota"))
    with pytest.raises(ProviderRejectedError, match="quota"):
        make_model(max_retries=0).complete(ask())


def test_persistent_server_error_is_transient(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN only 500s WHEN completing with max_retries=2 THEN TransientProviderError after 3 calls."""
    server.default_responder = lambda body: 500
    with pytest.raises(TransientProviderError, match="500") as raised:
        make_model(max_retries=2).complete(ask())
    assert not isinstance(raised.value, (ProviderThrottledError, ProviderResponseError))
    assert len(server.requests) == 3


def test_timeout_and_refused_connection_are_transient(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN a server slower than the timeout, and a closed port WHEN completing THEN both are Transient."""

    def slow(body: dict[str, Any]) -> str:
        time.sleep(0.6)
        return GOOD_ANSWER

    server.enqueue(slow)
    with pytest.raises(TransientProviderError, match="timed out"):
        make_model(max_retries=0, timeout=0.2).complete(ask())

    with FakeChatServer() as closing:
        closed_url = closing.base_url
    with pytest.raises(TransientProviderError, match="could not reach"):
        make_model(max_retries=0, base_url=closed_url).complete(ask())


# --------------------------------------------------------------------------- the fake itself, for reuse


def test_default_responder_answers_by_schema_when_the_queue_is_empty(server: FakeChatServer, make_model: Any) -> None:
    """GIVEN a queued reply and a default responder keyed by schema name
    WHEN three requests are made THEN the queue is used first, then the responder."""
    server.default_responder = respond_by_schema({"Answer": {"text": "default", "confidence": 0.5}})
    server.enqueue(GOOD_ANSWER)
    model = make_model()

    answers = [model.complete(ask()).value.text for _ in range(3)]

    assert answers == ["The Nile", "default", "default"]
    assert server.pending == 0
    with pytest.raises(ProviderRejectedError, match="no reply for schema 'Outline'"):
        model.complete(ask(Outline))


def test_fake_server_speaks_the_real_response_shape(server: FakeChatServer) -> None:
    """GIVEN the fake server WHEN called with plain urllib THEN the body has the Chat Completions shape."""
    import urllib.request

    server.enqueue("hello")
    payload = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(f"{server.base_url}/chat/completions", data=payload, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.loads(response.read())

    assert body["object"] == "chat.completion" and body["model"] == "m" and body["id"].startswith("chatcmpl-")
    assert body["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": "hello", "refusal": None}, "logprobs": None, "finish_reason": "stop"}
    ]
    expected_prompt = count_chat_tokens([{"role": "user", "content": "hi"}])
    assert body["usage"] == {"prompt_tokens": expected_prompt, "completion_tokens": 1, "total_tokens": expected_prompt + 1}

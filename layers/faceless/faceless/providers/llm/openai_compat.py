"""The real language model: any server that speaks OpenAI's Chat Completions API (OpenAI, Azure,
OpenRouter, Ollama, vLLM, llama.cpp), asked for structured outputs shaped by our pydantic models.

Retries are split on purpose: the SDK's own retry (with its backoff and `retry-after` handling)
covers 429/5xx/timeouts; our loop only re-asks when the model answered with something we cannot
use (bad JSON, wrong shape, cut off), which the SDK cannot see.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import openai
from pydantic import BaseModel, ValidationError

from faceless.errors import (
    ConfigurationError,
    FacelessError,
    ProviderRejectedError,
    ProviderResponseError,
)
from faceless.models import LlmUsage
from faceless.providers.base import ChatMessage, Completion, LlmRequest, T
from faceless.providers.llm.tokens import count_chat_tokens, count_text_tokens
from faceless.providers.openai_errors import DETAIL_CHARS, clip, translate_openai_error

log = logging.getLogger(__name__)

PROVIDER_NAME = "openai"

# Annotations that only cost prompt tokens, and keywords strict mode rejects. pydantic still
# enforces the dropped constraints (lengths, uniqueness) when it validates the reply.
_DROPPED_KEYWORDS = frozenset(
    {
        "title",
        "default",
        "examples",
        "discriminator",
        "readOnly",
        "writeOnly",
        "deprecated",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
        "patternProperties",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "contains",
        "minContains",
        "maxContains",
        "uniqueItems",
    }
)
# The string formats structured outputs accept; others (uri, binary, ...) are dropped.
_SUPPORTED_FORMATS = frozenset({"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"})
_TYPED_KEYWORDS = ("type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref")


# --------------------------------------------------------------------------- strict schema


def strict_json_schema(schema_model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of a pydantic model in the form structured outputs' strict mode accepts.

    Every object gets `additionalProperties: false` and lists all its properties in `required`
    (fields with defaults too: the model must then write them out), `$ref`s are inlined (the most
    widely understood form across OpenAI-compatible servers), `title`/`default` noise is dropped.
    Raises ConfigurationError for shapes strict mode cannot express (free-form dicts, `Any`, recursion).
    """
    raw = schema_model.model_json_schema()
    definitions = raw.pop("$defs", {})
    return _strict_node(raw, definitions=definitions, path=schema_model.__name__, expanding=())


def _strict_node(node: dict[str, Any], *, definitions: dict[str, Any], path: str, expanding: tuple[str, ...]) -> dict[str, Any]:
    if "$ref" in node:
        return _inline_ref(node, definitions=definitions, path=path, expanding=expanding)
    all_of = node.get("allOf")
    if all_of is not None:
        if len(all_of) != 1:
            raise ConfigurationError(f"{path}: strict structured outputs cannot express allOf with several schemas")
        merged = {**all_of[0], **{key: value for key, value in node.items() if key != "allOf"}}
        return _strict_node(merged, definitions=definitions, path=path, expanding=expanding)
    if not any(keyword in node for keyword in _TYPED_KEYWORDS):
        raise ConfigurationError(f"{path}: accepts any value; strict structured outputs need a declared type")

    strict: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYWORDS or (key == "format" and value not in _SUPPORTED_FORMATS):
            continue
        if key == "const":  # `enum` of one is understood by more servers than `const`
            strict["enum"] = [value]
        elif key == "properties":
            strict["properties"] = {
                name: _strict_node(sub, definitions=definitions, path=f"{path}.{name}", expanding=expanding)
                for name, sub in value.items()
            }
        elif key in ("anyOf", "oneOf"):  # strict mode knows anyOf only; oneOf of models is the same here
            strict["anyOf"] = [
                _strict_node(sub, definitions=definitions, path=f"{path}|{index}", expanding=expanding)
                for index, sub in enumerate(value)
            ]
        elif key == "items":
            if not isinstance(value, dict):
                raise ConfigurationError(f"{path}: strict structured outputs cannot express tuple items")
            strict["items"] = _strict_node(value, definitions=definitions, path=f"{path}[]", expanding=expanding)
        elif key == "prefixItems":
            raise ConfigurationError(f"{path}: strict structured outputs cannot express tuples; use a list or a model")
        elif key == "additionalProperties":
            continue  # decided below, for objects only
        else:
            strict[key] = value

    if _is_object(node):
        extra = node.get("additionalProperties", False)
        if extra is not False or not node.get("properties"):
            raise ConfigurationError(
                f"{path}: is a free-form mapping; strict structured outputs need a model with named fields"
            )
        strict["required"] = list(strict["properties"])
        strict["additionalProperties"] = False
    return strict


def _inline_ref(node: dict[str, Any], *, definitions: dict[str, Any], path: str, expanding: tuple[str, ...]) -> dict[str, Any]:
    name = node["$ref"].rsplit("/", 1)[-1]
    if name in expanding:
        raise ConfigurationError(f"{path}: {name} refers to itself; recursive schemas are not supported")
    if name not in definitions:
        raise ConfigurationError(f"{path}: unknown schema reference {node['$ref']}")
    # keywords beside the $ref (a field's description) take priority over the referenced schema's
    merged = {**definitions[name], **{key: value for key, value in node.items() if key != "$ref"}}
    return _strict_node(merged, definitions=definitions, path=path, expanding=(*expanding, name))


def _is_object(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def structured_output_format(schema_model: type[BaseModel]) -> dict[str, Any]:
    """The `response_format` asking for a reply that is one JSON object of `schema_model`'s shape."""
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", schema_model.__name__)[:64]  # the API's allowed name pattern
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "strict": True, "schema": strict_json_schema(schema_model)},
    }


# --------------------------------------------------------------------------- the adapter


class _UnusableReply(Exception):
    """The model answered, but not with a value of the schema: worth asking again."""

    def __init__(self, problem: str, content: str | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.content = content  # the reply text, shown back to the model when we ask again


class OpenAICompatibleModel:
    """`LanguageModel` over the `openai` SDK; `base_url` points it at any compatible server."""

    name = PROVIDER_NAME

    def __init__(
        self,
        api_key: str,
        model: str = "gpt-4o-mini",
        base_url: str | None = None,
        max_retries: int = 2,
        timeout: float = 60.0,
        client: openai.OpenAI | None = None,
    ) -> None:
        if client is None and not api_key:
            raise ConfigurationError("OPENAI_API_KEY is empty; set it or use the offline language model")
        if max_retries < 0:
            raise ConfigurationError(f"max_retries must be >= 0, got {max_retries}")
        self.model = model
        self.max_retries = max_retries
        self.timeout = timeout
        # The SDK retries 429/5xx/timeouts itself, with backoff honouring `retry-after(-ms)`.
        self.client = client or openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout)

    def complete(self, request: LlmRequest[T]) -> Completion[T]:
        response_format = structured_output_format(request.schema_model)
        messages = [message.model_dump() for message in request.messages]
        started = time.perf_counter()
        prompt_tokens = completion_tokens = 0
        model_used = self.model
        problem = ""
        attempts = 0
        while attempts <= self.max_retries:
            attempts += 1
            response = self._create(request, messages, response_format)
            model_used = response.model or self.model
            used_prompt, used_completion = _tokens_used(response, messages)
            # every attempt is billed, so usage sums them all
            prompt_tokens += used_prompt
            completion_tokens += used_completion
            try:
                value = self._read_value(response, request)
            except _UnusableReply as unusable:
                problem = unusable.problem
                log.warning("agent %s: unusable reply (attempt %d): %s", request.agent, attempts, problem)
                messages = _with_correction(request.messages, unusable)
                continue
            usage = LlmUsage(
                agent=request.agent,
                provider=PROVIDER_NAME,
                model=model_used,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                seconds=round(time.perf_counter() - started, 3),
                attempts=attempts,
            )
            return Completion(value=value, usage=usage)
        raise ProviderResponseError(
            _clip(
                f"agent {request.agent!r}: {model_used} gave no usable {request.schema_model.__name__} "
                f"in {attempts} attempt(s); last problem: {problem}"
            )
        )

    def _create(self, request: LlmRequest[T], messages: list[dict[str, str]], response_format: dict[str, Any]) -> Any:
        try:
            return self.client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]  # plain role/content dicts
                # `max_tokens`, not `max_completion_tokens`: the newer name is what OpenAI's reasoning
                # models require, but vLLM, Ollama, llama.cpp, OpenRouter and older Azure API versions
                # accept `max_tokens`, which OpenAI's chat models still honour.
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                response_format=response_format,  # type: ignore[arg-type]
            )
        except openai.APIError as error:
            raise self._translate(error, request.agent) from error

    def _read_value(self, response: Any, request: LlmRequest[T]) -> T:
        if not response.choices:
            raise _UnusableReply("the reply had no choices", None)
        choice = response.choices[0]
        message = choice.message
        if getattr(message, "refusal", None):
            raise ProviderRejectedError(
                _clip(f"agent {request.agent!r}: {self.model} refused to answer: {message.refusal}")
            )
        if choice.finish_reason == "content_filter":
            raise ProviderRejectedError(f"agent {request.agent!r}: {self.model}'s content filter stopped the reply")
        if choice.finish_reason == "length":
            # A cut-off JSON object is useless; showing it back would only cost tokens.
            raise _UnusableReply(f"the reply was cut off at max_tokens={request.max_tokens} (finish_reason 'length')", None)
        content = (message.content or "").strip()
        if not content:
            raise _UnusableReply("the reply was empty", None)
        try:
            return request.schema_model.model_validate_json(_without_code_fence(content))
        except ValidationError as error:
            raise _UnusableReply(_describe_invalid(error, request.schema_model, content), content) from None

    def _translate(self, error: openai.APIError, agent: str) -> FacelessError:
        where = f"agent {agent!r}, model {self.model}, {self.client.base_url}"
        return translate_openai_error(error, "the language model", where, self.timeout)


# --------------------------------------------------------------------------- helpers


def _tokens_used(response: Any, messages: list[dict[str, str]]) -> tuple[int, int]:
    usage = getattr(response, "usage", None)
    if usage is not None and usage.prompt_tokens is not None:
        return usage.prompt_tokens, usage.completion_tokens or 0
    # Some compatible servers omit usage; count locally (o200k_base) rather than record zero.
    content = response.choices[0].message.content if response.choices else ""
    return count_chat_tokens(messages), count_text_tokens(content or "")


def _with_correction(original: list[ChatMessage], unusable: _UnusableReply) -> list[dict[str, str]]:
    """The original conversation, plus the bad reply and what was wrong with it (if it helps)."""
    messages = [message.model_dump() for message in original]
    if unusable.content is None:
        return messages
    return [
        *messages,
        {"role": "assistant", "content": unusable.content},
        {
            "role": "user",
            "content": f"That reply was not usable: {unusable.problem}. "
            "Answer again with only one JSON object that matches the schema.",
        },
    ]


def _describe_invalid(error: ValidationError, schema_model: type[BaseModel], content: str) -> str:
    excerpt = _clip(content, 120)
    issues = error.errors(include_url=False)
    if any(issue["type"] == "json_invalid" for issue in issues):
        return f"the reply is not valid JSON ({issues[0]['msg']}): {excerpt!r}"
    described = "; ".join(f"{'.'.join(str(part) for part in issue['loc']) or '<root>'}: {issue['msg']}" for issue in issues[:3])
    more = f" (+{len(issues) - 3} more)" if len(issues) > 3 else ""
    return f"the reply does not match {schema_model.__name__}: {described}{more}; reply was {excerpt!r}"


def _without_code_fence(content: str) -> str:
    """Servers that ignore response_format often wrap JSON in a markdown fence; unwrap it."""
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", content, flags=re.DOTALL)
    return fenced.group(1) if fenced else content


def _clip(text: str, limit: int = DETAIL_CHARS * 2) -> str:
    return clip(text, limit)

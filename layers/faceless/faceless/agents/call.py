"""One structured call to the language model, the same way for every agent."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from faceless.errors import ProviderResponseError
from faceless.models import LlmUsage
from faceless.providers.base import ChatMessage, LanguageModel, LlmRequest

T = TypeVar("T", bound=BaseModel)


def build_request(
    agent: str,
    system: str,
    user: str,
    schema: type[T],
    inputs: dict[str, Any],
    max_tokens: int,
    temperature: float,
) -> LlmRequest[T]:
    return LlmRequest[schema](  # type: ignore[valid-type]
        agent=agent,
        messages=[ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)],
        schema_model=schema,
        inputs=inputs,
        max_tokens=max_tokens,
        temperature=temperature,
    )


def ask(llm: LanguageModel, request: LlmRequest[T]) -> tuple[T, LlmUsage]:
    """Send `request`; return the parsed draft and the call's usage."""
    completion = llm.complete(request)
    value = completion.value
    if not isinstance(value, request.schema_model):
        # adapters validate already; this guards a wrong wiring, and a retry may well fix a bad parse
        raise ProviderResponseError(
            f"{request.agent}: the model returned {type(value).__name__}, expected {request.schema_model.__name__}"
        )
    return value, completion.usage

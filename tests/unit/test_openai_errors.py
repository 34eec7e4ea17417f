"""How an OpenAI SDK error becomes ours, for every adapter speaking the OpenAI API. No sockets: the SDK's
error objects are built here around stand-ins for its HTTP client's request and response (it reads
only these attributes of them; the client library itself changed name between SDK versions)."""

from __future__ import annotations

from dataclasses import dataclass, field

import openai
import pytest

from faceless.errors import (
    ProviderRejectedError,
    ProviderResponseError,
    ProviderThrottledError,
    TransientProviderError,
)
from faceless.providers.openai_errors import DETAIL_CHARS, translate_openai_error



@dataclass
class _Request:
    method: str = "POST"
    url: str = "http://127.0.0.1:9/v1/images/generations"


@dataclass
class _Response:
    status_code: int
    request: _Request = field(default_factory=_Request)
    headers: dict[str, str] = field(default_factory=dict)


_REQUEST = _Request()


def _status_error(cls: type[openai.APIStatusError], status: int, message: str, code: str | None = None):  # noqa: ANN202
    body = {"message": message, "type": "invalid_request_error", "code": code}
    return cls(message, response=_Response(status), body=body)


@pytest.mark.parametrize(
    ("error", "expected", "words"),
    [
        (_status_error(openai.RateLimitError, 429, "slow down"), ProviderThrottledError, "is rate-limiting us (429"),
        (_status_error(openai.RateLimitError, 429, "pay up", "insufficient_quota"), ProviderRejectedError, "quota is exhausted"),
        (_status_error(openai.RateLimitError, 429, "limit", "billing_hard_limit_reached"), ProviderRejectedError, "quota"),
        (openai.APITimeoutError(request=_REQUEST), TransientProviderError, "timed out after 30 s"),
        (openai.APIConnectionError(request=_REQUEST), TransientProviderError, "could not reach OpenAI Images"),
        (_status_error(openai.AuthenticationError, 401, "Incorrect API key provided."), ProviderRejectedError, "rejected the API key"),
        (_status_error(openai.PermissionDeniedError, 403, "no access"), ProviderRejectedError, "may not use this model"),
        (_status_error(openai.NotFoundError, 404, "no such model"), ProviderRejectedError, "not found (404"),
        (_status_error(openai.InternalServerError, 503, "overloaded"), TransientProviderError, "failed (503"),
        (_status_error(openai.ConflictError, 409, "busy"), TransientProviderError, "failed (409"),
        (_status_error(openai.BadRequestError, 400, "Your request was rejected", "content_policy_violation"),
         ProviderRejectedError, "refused the prompt (content_policy_violation"),
        (_status_error(openai.BadRequestError, 400, "size must be one of"), ProviderRejectedError, "rejected the request (400"),
        (openai.APIResponseValidationError(_Response(200), None), ProviderResponseError, "did not parse"),
    ],
)
def test_each_sdk_error_maps_to_the_class_the_state_machine_reads(error: openai.APIError, expected: type, words: str) -> None:
    """GIVEN an error the SDK raises after its own retries WHEN translated THEN it is the class that says
    whether to wait, retry or give up, and the message names the service, model and server."""
    translated = translate_openai_error(
        error, "OpenAI Images", "gpt-image-1, http://127.0.0.1:9/v1", 30.0, frozenset({"content_policy_violation"})
    )
    assert type(translated) is expected
    assert words in str(translated)
    assert "gpt-image-1, http://127.0.0.1:9/v1" in str(translated)


def test_a_refusal_code_of_another_service_is_a_plain_rejection() -> None:
    """GIVEN a 400 whose code is a refusal only for the Images API WHEN a chat adapter translates it
    THEN it reads as a rejected request, not a refused prompt."""
    error = _status_error(openai.BadRequestError, 400, "blocked", "content_policy_violation")
    translated = translate_openai_error(error, "the language model", "gpt-4o-mini", 30.0)
    assert "the language model rejected the request (400" in str(translated)


def test_a_long_server_message_is_clipped() -> None:
    """GIVEN a server that answers with a very long message WHEN translated THEN only its start is quoted."""
    error = _status_error(openai.BadRequestError, 400, "x" * 5000)
    text = str(translate_openai_error(error, "the language model", "m", 30.0))
    assert "x" * (DETAIL_CHARS - 1) + "…" in text
    assert len(text) < DETAIL_CHARS + 200

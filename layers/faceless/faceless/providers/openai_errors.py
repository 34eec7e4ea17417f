"""What an `openai` SDK error means for us, for every adapter that speaks the OpenAI API (chat
completions, images). The SDK has already retried what retrying fixes (429, 5xx, timeouts, with
`retry-after`); what reaches us is mapped onto the classes the state machine's Retry and Catch and
the provider fallback read: Throttled (wait longer), Transient (retry), Rejected (retrying cannot
help: fall back or fail), Response (the answer itself is unusable)."""

from __future__ import annotations

import openai

from faceless.errors import (
    FacelessError,
    ProviderRejectedError,
    ProviderResponseError,
    ProviderThrottledError,
    TransientProviderError,
)

DETAIL_CHARS = 300  # how much of a server's message we quote in an error
QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})  # 429s that waiting does not fix


def server_message(error: openai.APIError) -> str:
    """The server's own words (`error.message` of its JSON body), clipped."""
    body = error.body
    text = str(body["message"]) if isinstance(body, dict) and body.get("message") else str(error.message)
    return clip(text, DETAIL_CHARS)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def translate_openai_error(
    error: openai.APIError, service: str, where: str, timeout: float, refusal_codes: frozenset[str] = frozenset()
) -> FacelessError:
    """Our error for `error`, raised by a call to `service` ("the language model", "OpenAI Images");
    `where` says which model and server; `refusal_codes` are the error codes by which this service
    refuses the content of a request (a prompt against its policy)."""
    detail = server_message(error)
    code = getattr(error, "code", None)
    if isinstance(error, openai.RateLimitError):
        if code in QUOTA_CODES:
            return ProviderRejectedError(f"{service}: the OpenAI quota is exhausted (429 {code}; {where}): {detail}")
        return ProviderThrottledError(f"{service} is rate-limiting us (429; {where}): {detail}")
    if isinstance(error, openai.APITimeoutError):  # a subclass of APIConnectionError: first
        return TransientProviderError(f"{service} timed out after {timeout:g} s ({where})")
    if isinstance(error, openai.APIConnectionError):
        return TransientProviderError(f"could not reach {service} ({where}): {clip(str(error), DETAIL_CHARS)}")
    if isinstance(error, openai.AuthenticationError):
        return ProviderRejectedError(f"{service} rejected the API key (401; {where}): {detail}")
    if isinstance(error, openai.PermissionDeniedError):
        return ProviderRejectedError(f"the API key may not use this model (403; {where}): {detail}")
    if isinstance(error, openai.NotFoundError):
        return ProviderRejectedError(f"model or endpoint not found (404; {where}): {detail}")
    if isinstance(error, openai.APIResponseValidationError):
        return ProviderResponseError(f"{service}'s response did not parse ({where}): {detail}")
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        if status >= 500 or status in (408, 409):  # InternalServerError and the other retryable ones
            return TransientProviderError(f"{service} failed ({status}; {where}): {detail}")
        if code in refusal_codes:
            return ProviderRejectedError(f"{service} refused the prompt ({code}; {where}): {detail}")
        # 400 (for a chat server, often: it does not support json_schema response_format), 422, others
        return ProviderRejectedError(f"{service} rejected the request ({status}; {where}): {detail}")
    return TransientProviderError(f"{service} call failed ({where}): {detail}")

"""Errors the API answers with a 4xx (or a 503 for a dependency down). Each carries its HTTP status
and a stable `error` code; app.py's one exception map turns them into JSON."""

from __future__ import annotations

from faceless.errors import FacelessError


class ApiError(FacelessError):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadBodyError(ApiError):
    """Empty, not UTF-8, not JSON, or not a JSON object."""

    code = "invalid_body"


class PayloadTooLargeError(ApiError):
    status = 413
    code = "payload_too_large"


class RequestValidationError(ApiError):
    """The body or a parameter breaks the contract; `details` names each field."""

    code = "validation_error"


class NotAuthenticatedError(ApiError):
    status = 401
    code = "unauthorized"


class VideoNotFoundError(ApiError):
    status = 404
    code = "not_found"


class IdempotencyConflictError(ApiError):
    status = 409
    code = "idempotency_conflict"


class IdempotencyKeyReusedError(ApiError):
    status = 422
    code = "idempotency_key_reused"


class DependencyUnavailableError(ApiError):
    status = 503
    code = "service_unavailable"

"""The API's resolver and its one exception map: every error becomes JSON
`{"error": code, "message": ..., "details": [{"field", "message"}]?}` with its 4xx status; a
dependency down is a 503; only a bug is a 500 (and it is logged)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from faceless.api.errors import ApiError, DependencyUnavailableError, IdempotencyConflictError, IdempotencyKeyReusedError
from faceless.api.models import ErrorBody, FieldError
from faceless.api.routes import router
from faceless.api.videos import field_errors
from faceless.jobs import InvalidPageTokenError
from faceless.observability import logger

resolver = APIGatewayHttpResolver()
resolver.include_router(router)


def error_response(status: int, code: str, message: str, details: list[dict[str, str]] | None = None) -> Response:
    body = ErrorBody(error=code, message=message, details=[FieldError(**d) for d in details] if details else None)
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json", exclude_none=True),
    )


@resolver.exception_handler(ApiError)
def _api_error(error: ApiError) -> Response:
    return error_response(error.status, error.code, error.message, error.details)


@resolver.exception_handler(ValidationError)
def _validation_error(error: ValidationError) -> Response:
    return error_response(HTTPStatus.BAD_REQUEST, "validation_error", "the request is invalid", field_errors(error))


@resolver.exception_handler(InvalidPageTokenError)
def _page_token(error: InvalidPageTokenError) -> Response:
    return error_response(
        HTTPStatus.BAD_REQUEST, "validation_error", "the next_token parameter is invalid",
        [{"field": "next_token", "message": str(error)}],
    )


@resolver.exception_handler(IdempotencyValidationError)
def _key_reused(error: Exception) -> Response:
    e = IdempotencyKeyReusedError("this Idempotency-Key was already used with a different body; use a new key")
    return _api_error(e)


@resolver.exception_handler(IdempotencyAlreadyInProgressError)
def _in_progress(error: Exception) -> Response:
    return _api_error(IdempotencyConflictError("a request with this Idempotency-Key is still being processed; retry shortly"))


@resolver.exception_handler([IdempotencyPersistenceLayerError, ClientError, BotoCoreError])
def _dependency(error: Exception) -> Response:
    logger.exception("a dependency failed")
    return _api_error(DependencyUnavailableError("the service is temporarily unavailable; try again in a moment"))


@resolver.exception_handler(Exception)
def _bug(error: Exception) -> Response:
    logger.exception("unhandled error")
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side")


@resolver.not_found
def _not_found(error: Exception) -> Response:
    return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such route")


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one HTTP API (payload 2.0) event. Like a Lambda instance, one event at a time:
    powertools keeps the current event on the router (the local server serialises its calls)."""
    return resolver.resolve(event, context)

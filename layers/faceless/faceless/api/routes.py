"""The routes (powertools Router). Each reads the request, calls one function of videos.py with
the tenant the authorizer established, and returns a JSON body; errors go to app.py's one map."""

from __future__ import annotations

import base64
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from faceless.api import videos
from faceless.api.context import api_context
from faceless.api.errors import NotAuthenticatedError
from faceless.api.models import dump
from faceless.observability import logger

router = APIGatewayHttpRouter()


def tenant_id() -> str:
    """The tenant the Lambda authorizer put in the request context (simple responses)."""
    value = router.current_event.request_context.authorizer.get_lambda.get("tenant_id")
    if not isinstance(value, str) or not value:
        raise NotAuthenticatedError("no tenant in the request: send Authorization: Bearer <your API key>")
    return value


def base_url() -> str:
    """Where this API answers, as the client called it (the status and download URLs start here)."""
    event = router.current_event
    headers = event.headers or {}
    context = event.request_context
    proto = headers.get("x-forwarded-proto", "https")
    stage = context.stage
    prefix = "" if not stage or stage == "$default" else f"/{stage}"
    return f"{proto}://{context.domain_name}{prefix}"


def raw_body() -> bytes | None:
    event = router.current_event
    body = event.body
    if body is None:
        return None
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=False)
        except ValueError:
            return b"\xff"  # undecodable: reported as not UTF-8
    return body.encode("utf-8", errors="surrogatepass")


def json_response(status: HTTPStatus, body: dict) -> Response:
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=body)


@router.post("/videos")
def create_video() -> Response:
    tenant = tenant_id()
    ctx = api_context()
    request = videos.parse_video_request(raw_body())
    key = videos.check_idempotency_key(router.current_event.headers.get("idempotency-key"))
    accepted = videos.submit_video(ctx, tenant, request, key, base_url(), router.lambda_context)
    return Response(
        status_code=HTTPStatus.ACCEPTED.value,
        content_type=content_types.APPLICATION_JSON,
        body=dump(accepted),
        headers={"Location": accepted.status_url},
    )


@router.get("/videos/<video_id>")
def get_video(video_id: str) -> Response:
    logger.set_correlation_id(video_id)
    view = videos.get_video(api_context(), tenant_id(), video_id, base_url())
    return json_response(HTTPStatus.OK, dump(view))


@router.get("/videos")
def list_videos() -> Response:
    tenant = tenant_id()
    query = router.current_event.query_string_parameters or {}
    limit = videos.parse_limit(query.get("limit"))
    page = videos.list_videos(api_context(), tenant, limit, query.get("next_token"), base_url())
    return json_response(HTTPStatus.OK, dump(page))


@router.get("/usage")
def usage() -> Response:
    return json_response(HTTPStatus.OK, dump(videos.tenant_usage(api_context(), tenant_id())))


@router.get("/voices")
def voices() -> Response:
    tenant_id()  # signed-in callers only, like every route
    query = router.current_event.query_string_parameters or {}
    return json_response(HTTPStatus.OK, dump(videos.list_voices(api_context(), query.get("language"))))

"""The work behind each route: submit a video (idempotently), read one, list a tenant's, usage.

Every function takes the tenant id the authorizer established; the jobs table is keyed by it, so
another tenant's video is simply not found (404), never forbidden (which would confirm it exists)."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from faceless.api.context import ApiContext
from faceless.api.errors import (
    BadBodyError,
    DependencyUnavailableError,
    PayloadTooLargeError,
    RequestValidationError,
    VideoNotFoundError,
)
from faceless.api.estimate import estimate_request_cost
from faceless.api.models import (
    Accepted,
    UsageView,
    VideoList,
    VideoOutputs,
    VideoSummary,
    VideoView,
    VoiceInfo,
    VoiceListView,
)
from faceless.errors import ConfigurationError
from faceless.jobs import JobRecord, new_video_id
from faceless.media.scripts import undrawable_captions
from faceless.models import LANGUAGE_CODE_HINT, JobError, JobInput, JobStatusName, VideoRequest, is_language_code
from faceless.observability import logger, record_video_requested
from faceless.providers.speech.catalog import voice_catalog

MAX_BODY_BYTES = 64 * 1024
MAX_LIMIT = 100
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
OUTPUT_NAMES = ("video", "captions_srt", "captions_vtt", "thumbnail", "metadata")


# --------------------------------------------------------------------------- input


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """pydantic's errors as [{field, message}], in the words a client can act on."""
    details = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "enum":
            message = f"must be one of {item['ctx']['expected']}"
        elif item["type"] == "extra_forbidden":
            message = "is not a field of a video request"
        if not field:  # a rule about several fields (topic or script)
            field = "topic" if "'topic'" in message else "body"
        details.append({"field": field, "message": message})
    return details


def parse_video_request(body: bytes | None) -> VideoRequest:
    """The request body as a VideoRequest, or a 4xx that says what is wrong and where."""
    if body is not None and len(body) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"the body is {len(body)} bytes; the limit is {MAX_BODY_BYTES} bytes (64 KB)")
    if body is None or not body.strip():
        raise BadBodyError('the body is empty: send a JSON video request, e.g. {"topic": "How volcanoes form"}')
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBodyError("the body is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadBodyError("the body is not valid JSON: nested too deeply") from None
    except ValueError as error:
        raise BadBodyError(f"the body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise RequestValidationError(
            "the body must be a JSON object", [{"field": "body", "message": "must be a JSON object of video request fields"}]
        )
    try:
        request = VideoRequest.model_validate(data)
    except ValidationError as error:
        raise RequestValidationError("the video request is invalid", field_errors(error)) from None
    if problem := undrawable_captions(request.script, request.language):  # refused now, not after starting
        field, message = problem
        raise RequestValidationError("the video request is invalid", [{"field": field, "message": message}])
    return request


def check_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.match(value):
        raise RequestValidationError(
            "the Idempotency-Key header is invalid",
            [{"field": "Idempotency-Key", "message": "must be 1 to 255 visible ASCII characters"}],
        )
    return value


def parse_limit(value: str | None) -> int:
    if value is None or value == "":
        return 20
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise RequestValidationError("the limit parameter is invalid", [{"field": "limit", "message": f"must be an integer from 1 to {MAX_LIMIT}"}])
    return limit


# --------------------------------------------------------------------------- POST /videos


def submit_video(
    ctx: ApiContext, tenant_id: str, request: VideoRequest, idempotency_key: str | None, base_url: str, lambda_context: Any = None
) -> Accepted:
    submission = {"tenant_id": tenant_id, "idempotency_key": idempotency_key, "request": request.model_dump(mode="json")}
    if idempotency_key:
        register_lambda_context(ctx, lambda_context)
        started = _idempotent_start(ctx)(submission=submission)
    else:
        started = _start(ctx, submission)
    video_id = started["video_id"]
    logger.set_correlation_id(video_id)
    return Accepted(
        video_id=video_id, status_url=f"{base_url}/videos/{video_id}", estimated_cost_usd=started["estimated_cost_usd"],
        notes=started.get("notes", []),  # an idempotent replay stored before notes existed has none
    )  # fmt: skip


def _notes(ctx: ApiContext, request: VideoRequest) -> list[str]:
    """What the caller should know about how this video will be made."""
    if ctx.settings.use_openai:
        return []
    # the offline model writes the narration (its module imported only then: cold start)
    from faceless.providers.llm.offline import english_outline_note

    note = english_outline_note(request, "send your own `script`.")
    return [note] if note else []


def _start(ctx: ApiContext, submission: dict[str, Any]) -> dict[str, Any]:
    """Create the job (queued) and start its execution, named after the video id."""
    tenant_id = submission["tenant_id"]
    request = VideoRequest.model_validate(submission["request"])
    video_id = new_video_id()
    estimate = estimate_request_cost(request, ctx.settings)
    notes = _notes(ctx, request)
    ctx.jobs.create(
        JobRecord(
            tenant_id=tenant_id, video_id=video_id, stage="queued", request=request, estimated_cost_usd=estimate,
            notes=notes,
        )  # fmt: skip
    )
    try:
        ctx.executions.start(JobInput(job_id=video_id, tenant_id=tenant_id, request=request))
    except ConfigurationError:
        raise
    except Exception as error:  # noqa: BLE001 - the service is down, not the client's input
        logger.exception("could not start the execution", extra={"video_id": video_id})
        ctx.jobs.fail(tenant_id, video_id, JobError(error=type(error).__name__, cause="the video could not be started"))
        raise DependencyUnavailableError("the video could not be started; try again in a moment") from error
    record_video_requested()
    return {"video_id": video_id, "estimated_cost_usd": estimate, "notes": notes}


def _idempotent_start(ctx: ApiContext):
    """`_start` behind powertools idempotency (DynamoDB): the same tenant, key and body return the
    first answer and start nothing; the same key with another body is refused."""
    cached = getattr(ctx, "_idempotent_start", None)
    if cached is not None:
        return cached
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(
        event_key_jmespath="[tenant_id, idempotency_key]",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
    )

    @idempotent_function(data_keyword_argument="submission", persistence_store=ctx.idempotency_store, config=config, key_prefix="faceless#videos")
    def start_video(submission: dict[str, Any]) -> dict[str, Any]:
        return _start(ctx, submission)

    ctx._idempotent_start = start_video  # type: ignore[attr-defined]
    ctx._idempotency_config = config  # type: ignore[attr-defined]
    return start_video


def register_lambda_context(ctx: ApiContext, context: Any) -> None:
    """Lets idempotency notice a Lambda timing out mid-request (the record then expires early)."""
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        _idempotent_start(ctx)
        ctx._idempotency_config.register_lambda_context(context)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- GET /videos/{id}


def get_job(ctx: ApiContext, tenant_id: str, video_id: str) -> JobRecord:
    record = ctx.jobs.get(tenant_id, video_id) if _VIDEO_ID.match(video_id or "") else None
    if record is None:
        raise VideoNotFoundError(f"no video {video_id!r}")
    return record


def video_view(ctx: ApiContext, record: JobRecord, base_url: str) -> VideoView:
    urls: dict[str, str | None] = {}
    if record.status is JobStatusName.succeeded:
        for name in OUTPUT_NAMES:
            key = record.outputs.get(name)
            urls[f"{name}_url"] = ctx.urls.url(key, base_url) if key else None
    return VideoView(
        video_id=record.video_id,
        status=record.status,
        stage=record.stage,
        progress=record.progress,
        created_at=record.created_at,
        updated_at=record.updated_at,
        request=record.request,
        outputs=VideoOutputs(**urls),
        usage=record.usage,
        cost_usd=record.cost_usd,
        estimated_cost_usd=record.estimated_cost_usd,
        error=record.error,
        notes=record.notes,
        title=record.title,
        description=record.description,
        hashtags=record.hashtags,
    )


def get_video(ctx: ApiContext, tenant_id: str, video_id: str, base_url: str) -> VideoView:
    return video_view(ctx, get_job(ctx, tenant_id, video_id), base_url)


# --------------------------------------------------------------------------- GET /videos, GET /usage


def list_videos(ctx: ApiContext, tenant_id: str, limit: int, next_token: str | None, base_url: str) -> VideoList:
    page = ctx.jobs.list(tenant_id, limit=limit, next_token=next_token or None)
    return VideoList(
        videos=[
            VideoSummary(
                video_id=r.video_id,
                status=r.status,
                stage=r.stage,
                progress=r.progress,
                created_at=r.created_at,
                updated_at=r.updated_at,
                topic=r.request.topic if r.request else None,
                cost_usd=r.cost_usd,
                status_url=f"{base_url}/videos/{r.video_id}",
            )
            for r in page.items
        ],
        next_token=page.next_token,
    )


def tenant_usage(ctx: ApiContext, tenant_id: str) -> UsageView:
    by_status: dict[str, int] = {}
    spent = 0.0
    for record in ctx.jobs.iter_all(tenant_id):
        by_status[record.status.value] = by_status.get(record.status.value, 0) + 1
        spent += record.cost_usd or 0.0
    return UsageView(
        tenant_id=tenant_id,
        videos_made=by_status.get(JobStatusName.succeeded.value, 0),
        videos_total=sum(by_status.values()),
        videos_by_status=by_status,
        spent_usd=round(spent, 6),
    )


# --------------------------------------------------------------------------- GET /voices


def list_voices(ctx: ApiContext, language: str | None) -> VoiceListView:
    """The voices a request may name (`voice`): the offline ones always; edge-tts's when it is the
    speech provider (its list needs the network: when unreachable, said in `unavailable`)."""
    language = (language or "").strip() or None
    if language is not None and not is_language_code(language):
        raise RequestValidationError("the language parameter is invalid", [{"field": "language", "message": LANGUAGE_CODE_HINT}])
    catalog = voice_catalog(ctx.settings.speech_provider, language)
    voices = [
        VoiceInfo(name=v["name"], language=v["language"], gender=v["gender"] or None, description=v["description"] or "",
                  provider="offline")
        for v in catalog.offline
    ]  # fmt: skip
    voices += [VoiceInfo(**v, provider="edge") for v in catalog.edge or []]
    unavailable = {"edge": catalog.edge_unavailable} if catalog.edge_unavailable else {}
    return VoiceListView(language=language, voices=voices, unavailable=unavailable)

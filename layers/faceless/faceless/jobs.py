"""The jobs table: one item per video (status, stage, progress, request, outputs, usage, cost).

The API creates the item (`queued`); every state of the video machine moves it forward (`running`,
stage and percent); Finalize marks it `succeeded` with its outputs and usage; the failure handler
marks it `failed`. The same DynamoDB code runs in the cloud and locally (inside moto's mock).

Keys: `tenant_id` (hash) + `video_id` (range), so a tenant can only ever address its own items; the
local secondary index `by_created` (tenant_id + created_at) lists a tenant's videos newest first.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from faceless.errors import InvalidRequestError
from faceless.models import JobError, JobStatusName, VideoRequest

BY_CREATED = "by_created"
TERMINAL = (JobStatusName.succeeded.value, JobStatusName.failed.value)

# The table as CloudFormation and moto create it (template.yaml's JobsTable must match: a test checks).
TABLE_SCHEMA: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "tenant_id", "AttributeType": "S"},
        {"AttributeName": "video_id", "AttributeType": "S"},
        {"AttributeName": "created_at", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "tenant_id", "KeyType": "HASH"},
        {"AttributeName": "video_id", "KeyType": "RANGE"},
    ],
    "LocalSecondaryIndexes": [
        {
            "IndexName": BY_CREATED,
            "KeySchema": [
                {"AttributeName": "tenant_id", "KeyType": "HASH"},
                {"AttributeName": "created_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
}


class InvalidPageTokenError(InvalidRequestError):
    """A `next_token` that this service did not hand to this tenant."""


class JobExistsError(InvalidRequestError):
    """A video with this id already exists."""


def iso_time(epoch: float) -> str:
    """UTC, microseconds, `Z`: sorts as text in time order."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso_time(time.time())


def new_video_id() -> str:
    """Time-ordered and unguessable; also the execution name (<= 80 chars of [A-Za-z0-9_-])."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(6)


class VideoUsage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_calls: int = 0
    images: int = 0
    images_reused: int = 0
    tts_characters: int = 0
    render_seconds: float = 0.0
    duration_seconds: float = 0.0


class PostText(BaseModel):
    """What a made video is posted with: its title, description and hashtags."""

    title: str = ""
    description: str = ""
    hashtags: list[str] = Field(default_factory=list)


class JobRecord(BaseModel):
    """One item of the jobs table (unknown attributes, e.g. billing's, are kept out of the way)."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    video_id: str
    status: JobStatusName = JobStatusName.queued
    stage: str = ""
    progress: int = Field(default=0, ge=0, le=100)
    created_at: str = Field(default_factory=now_iso)
    updated_at: str = Field(default_factory=now_iso)
    request: VideoRequest | None = None
    outputs: dict[str, str] = Field(default_factory=dict)  # name -> blob-store key
    usage: VideoUsage | None = None
    cost_usd: float | None = None
    estimated_cost_usd: float | None = None
    error: JobError | None = None
    notes: list[str] = Field(default_factory=list)  # told to the caller with the 202 and on every read
    # once made: what to post it with (as in metadata.json)
    title: str | None = None
    description: str | None = None
    hashtags: list[str] = Field(default_factory=list)


class JobPage(BaseModel):
    items: list[JobRecord]
    next_token: str | None = None


class JobsRepository(Protocol):
    def create(self, record: JobRecord) -> None: ...
    def get(self, tenant_id: str, video_id: str) -> JobRecord | None: ...
    def list(self, tenant_id: str, limit: int = 20, next_token: str | None = None) -> JobPage: ...
    def iter_all(self, tenant_id: str) -> Iterator[JobRecord]: ...
    def progress(self, tenant_id: str, video_id: str, stage: str, percent: int, request: VideoRequest | None = None) -> bool: ...
    def succeed(
        self, tenant_id: str, video_id: str, outputs: dict[str, str], usage: VideoUsage, cost_usd: float,
        post: PostText | None = None,
    ) -> None: ...
    def fail(self, tenant_id: str, video_id: str, error: JobError) -> None: ...


# --------------------------------------------------------------------------- DynamoDB values


def to_item(value: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    plain = json.loads(json.dumps(value), parse_float=Decimal)  # DynamoDB numbers are Decimals
    return {k: serializer.serialize(v) for k, v in plain.items() if v is not None}


def to_value(value: Any) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer().serialize(json.loads(json.dumps(value), parse_float=Decimal))


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: _plain(deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return value


class LazyClient:
    """A boto3 client made on first use (so it is made inside moto's mock when one runs) and shared
    by threads (clients are thread-safe; making them is not)."""

    _lock = threading.Lock()

    def __init__(self, service: str, region: str | None = None, client: Any = None, config: Any = None) -> None:
        self.service, self.region, self._client, self.config = service, region, client, config

    def __call__(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.client(self.service, region_name=self.region, config=self.config)
        return self._client


# --------------------------------------------------------------------------- repository


class DynamoJobsRepository:
    def __init__(self, table: str, client: Any = None, region: str | None = None) -> None:
        self.table = table
        self._client = LazyClient("dynamodb", region, client)

    @property
    def client(self) -> Any:
        return self._client()

    def create(self, record: JobRecord) -> None:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item(record.model_dump(mode="json")),
                ConditionExpression="attribute_not_exists(video_id)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise JobExistsError(f"video {record.video_id} already exists") from None

    def get(self, tenant_id: str, video_id: str) -> JobRecord | None:
        item = self.client.get_item(
            TableName=self.table, Key=to_item({"tenant_id": tenant_id, "video_id": video_id}), ConsistentRead=True
        ).get("Item")
        return JobRecord.model_validate(from_item(item)) if item else None

    def list(self, tenant_id: str, limit: int = 20, next_token: str | None = None) -> JobPage:
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": BY_CREATED,
            "KeyConditionExpression": "tenant_id = :t",
            "ExpressionAttributeValues": {":t": {"S": tenant_id}},
            "ScanIndexForward": False,  # newest first
            "Limit": limit,
        }
        if next_token:
            query["ExclusiveStartKey"] = decode_token(next_token, tenant_id)
        page = self.client.query(**query)
        last = page.get("LastEvaluatedKey")
        return JobPage(
            items=[JobRecord.model_validate(from_item(i)) for i in page.get("Items", [])],
            next_token=encode_token(last) if last else None,
        )

    def iter_all(self, tenant_id: str) -> Iterator[JobRecord]:
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="tenant_id = :t",
            ExpressionAttributeValues={":t": {"S": tenant_id}},
        ):
            for item in page.get("Items", []):
                yield JobRecord.model_validate(from_item(item))

    def progress(self, tenant_id: str, video_id: str, stage: str, percent: int, request: VideoRequest | None = None) -> bool:
        """Running, at `stage`, `percent` done. Never moves back, never reopens a finished job; creates
        the item when the video was started by something other than the API (a batch). False when
        the update was not applied (an older or late report)."""
        now = now_iso()
        values: dict[str, Any] = {
            ":running": to_value(JobStatusName.running.value),
            ":queued": to_value(JobStatusName.queued.value),
            ":stage": to_value(stage),
            ":p": to_value(max(0, min(100, int(percent)))),
            ":now": to_value(now),
        }
        update = (
            "SET #status = :running, stage = :stage, progress = :p, updated_at = :now, "
            "created_at = if_not_exists(created_at, :now)"
        )
        if request is not None:
            update += ", #request = if_not_exists(#request, :request)"
            values[":request"] = to_value(request.model_dump(mode="json"))
        try:
            self.client.update_item(
                TableName=self.table,
                Key=to_item({"tenant_id": tenant_id, "video_id": video_id}),
                UpdateExpression=update,
                ConditionExpression=(
                    "(attribute_not_exists(#status) OR #status IN (:queued, :running)) "
                    "AND (attribute_not_exists(progress) OR progress <= :p)"
                ),
                ExpressionAttributeNames={"#status": "status", **({"#request": "request"} if request is not None else {})},
                ExpressionAttributeValues=values,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def succeed(
        self, tenant_id: str, video_id: str, outputs: dict[str, str], usage: VideoUsage, cost_usd: float,
        post: PostText | None = None,
    ) -> None:
        now = now_iso()
        post = post or PostText()
        self.client.update_item(
            TableName=self.table,
            Key=to_item({"tenant_id": tenant_id, "video_id": video_id}),
            UpdateExpression=(
                "SET #status = :s, stage = :stage, progress = :p, outputs = :o, #usage = :u, cost_usd = :c, "
                "title = :title, description = :description, hashtags = :hashtags, "
                "updated_at = :now, created_at = if_not_exists(created_at, :now) REMOVE #error"
            ),
            ExpressionAttributeNames={"#status": "status", "#usage": "usage", "#error": "error"},
            ExpressionAttributeValues={
                ":s": to_value(JobStatusName.succeeded.value),
                ":stage": to_value("done"),
                ":p": to_value(100),
                ":o": to_value(outputs),
                ":u": to_value(usage.model_dump(mode="json")),
                ":c": to_value(round(cost_usd, 6)),
                ":title": to_value(post.title),
                ":description": to_value(post.description),
                ":hashtags": to_value(post.hashtags),
                ":now": to_value(now),
            },
        )

    def fail(self, tenant_id: str, video_id: str, error: JobError) -> None:
        """Failed; the stage stays where it failed (a succeeded video is never marked failed)."""
        now = now_iso()
        try:
            self.client.update_item(
                TableName=self.table,
                Key=to_item({"tenant_id": tenant_id, "video_id": video_id}),
                UpdateExpression="SET #status = :f, #error = :e, updated_at = :now, created_at = if_not_exists(created_at, :now)",
                ConditionExpression="attribute_not_exists(#status) OR #status <> :ok",
                ExpressionAttributeNames={"#status": "status", "#error": "error"},
                ExpressionAttributeValues={
                    ":f": to_value(JobStatusName.failed.value),
                    ":ok": to_value(JobStatusName.succeeded.value),
                    ":e": to_value(error.model_dump(mode="json")),
                    ":now": to_value(now),
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            pass


# --------------------------------------------------------------------------- page tokens

_KEY_FIELDS = {"tenant_id", "video_id", "created_at"}


def encode_token(last_key: dict[str, Any]) -> str:
    plain = {k: v["S"] for k, v in last_key.items()}
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str, tenant_id: str) -> dict[str, Any]:
    """The DynamoDB start key in a token; only a token of this tenant's own listing is accepted."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        plain = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidPageTokenError("is not a token this API returned") from None
    if (
        not isinstance(plain, dict)
        or set(plain) != _KEY_FIELDS
        or not all(isinstance(v, str) and 0 < len(v) <= 100 for v in plain.values())
        or plain["tenant_id"] != tenant_id
    ):
        raise InvalidPageTokenError("is not a token this API returned")
    return {k: {"S": v} for k, v in plain.items()}


# --------------------------------------------------------------------------- what the pipeline reports

# Stage -> percent when it starts (media moves from 27 to 68 as segments land; see media_percent).
STAGE_PERCENT = {"plan": 3, "script": 5, "bible": 12, "analyse": 16, "refine": 24, "media": 27, "assemble": 70, "finalize": 97}
MEDIA_SPAN = (27, 68)


def media_percent(done: int, total: int) -> int:
    start, end = MEDIA_SPAN
    return start + (end - start) * min(done, total) // max(total, 1)


def report_progress(
    jobs: JobsRepository | None, job: Any, stage: str, percent: int | None = None, request: VideoRequest | None = None
) -> None:
    """Best effort: a progress write that fails (throttled, no table) never fails a video step."""
    if jobs is None:
        return
    try:
        jobs.progress(job.tenant_id, job.job_id, stage, STAGE_PERCENT.get(stage, 0) if percent is None else percent, request)
    except Exception:  # noqa: BLE001
        from faceless.observability import logger

        logger.warning("progress not recorded", exc_info=True, extra={"stage": stage})


def post_text(made: Any) -> PostText:
    """What a finished video is posted with: the title, description and hashtags of its metadata
    (faceless.models.Metadata) or of its jobs-table record."""
    return PostText(title=made.title, description=made.description, hashtags=made.hashtags)


def usage_from_metadata(metadata: Any) -> VideoUsage:
    """The jobs table's usage summary of a finished video (faceless.models.Metadata)."""
    return VideoUsage(
        prompt_tokens=sum(u.prompt_tokens for u in metadata.usage),
        completion_tokens=sum(u.completion_tokens for u in metadata.usage),
        llm_calls=len(metadata.usage),
        images=metadata.images,
        images_reused=metadata.images_reused,
        tts_characters=metadata.tts_characters,
        render_seconds=metadata.render_seconds,
        duration_seconds=metadata.duration_seconds,
    )

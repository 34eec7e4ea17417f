"""The HTTP API's response bodies (JSON, snake_case). The request body is `faceless.models.VideoRequest`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from faceless.jobs import VideoUsage
from faceless.models import JobError, JobStatusName, VideoRequest


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    error: str  # a stable code: validation_error, not_found, unauthorized, ...
    message: str
    details: list[FieldError] | None = None


class Accepted(BaseModel):
    """202 to `POST /videos`."""

    video_id: str
    status: JobStatusName = JobStatusName.queued
    status_url: str
    estimated_cost_usd: float
    notes: list[str] = Field(default_factory=list)  # what the caller should know about how it will be made


class VideoOutputs(BaseModel):
    """Download URLs, valid for at most one hour (null until the video has succeeded)."""

    video_url: str | None = None
    captions_srt_url: str | None = None
    captions_vtt_url: str | None = None
    thumbnail_url: str | None = None
    metadata_url: str | None = None


class VideoView(BaseModel):
    video_id: str
    status: JobStatusName
    stage: str
    progress: int
    created_at: str
    updated_at: str
    request: VideoRequest | None
    outputs: VideoOutputs
    usage: VideoUsage | None
    cost_usd: float | None
    estimated_cost_usd: float | None = None
    error: JobError | None
    notes: list[str] = Field(default_factory=list)  # as in the 202 to `POST /videos`
    # once made: what to post it with (as in metadata.json)
    title: str | None = None
    description: str | None = None
    hashtags: list[str] = Field(default_factory=list)


class VideoSummary(BaseModel):
    video_id: str
    status: JobStatusName
    stage: str
    progress: int
    created_at: str
    updated_at: str
    topic: str | None
    cost_usd: float | None
    status_url: str


class VideoList(BaseModel):
    videos: list[VideoSummary]
    next_token: str | None


class UsageView(BaseModel):
    tenant_id: str
    balance_usd: float = 0.0  # filled in by billing
    videos_made: int  # succeeded
    videos_total: int
    videos_by_status: dict[str, int] = Field(default_factory=dict)
    spent_usd: float  # sum of cost_usd


class VoiceInfo(BaseModel):
    name: str  # what POST /videos takes as `voice`
    language: str
    gender: str | None = None
    description: str = ""
    provider: Literal["offline", "edge"]


class VoiceListView(BaseModel):
    language: str | None  # the filter asked for, if any
    voices: list[VoiceInfo]  # the language's preferred voice first
    unavailable: dict[str, str] = Field(default_factory=dict)  # provider -> why its list could not be read


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")

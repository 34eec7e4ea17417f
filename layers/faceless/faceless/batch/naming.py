"""Deterministic names. A batch execution is named from (bucket, key, ETag) and each video from
(bucket, key, ETag, row): Step Functions refuses a second execution with the same name, so an S3 /
EventBridge event delivered twice (or a batch run again) starts nothing new. A new upload of the same
file has a new ETag only if its bytes changed; the same bytes again are the same batch."""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath

from faceless.errors import InvalidManifestError

PREFIX = "batches/"
REPORTS = "reports/"
WORK = "work/batches/"  # item lists for the Distributed Map (not under batches/: that would start a batch)
FORMATS = {".csv": "csv", ".json": "json"}
DEFAULT_TENANT = "batch"  # batches/<name>.csv; batches/<tenant>/<name>.csv makes videos for <tenant>
_TENANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def normalise_etag(etag: str) -> str:
    """S3 APIs quote the ETag, events do not: compare and hash the bare value."""
    return etag.strip().strip('"')


def manifest_format(key: str) -> str | None:
    """'csv' or 'json' for a manifest key under batches/, else None (the trigger ignores the object)."""
    if not key.startswith(PREFIX) or key.endswith("/"):
        return None
    return FORMATS.get(PurePosixPath(key).suffix.lower())


def manifest_name(key: str) -> str:
    """batches/acme/june.csv -> acme/june (the report is reports/<name>.json)."""
    path = PurePosixPath(key[len(PREFIX):])
    return str(path.with_suffix(""))


def tenant_of(key: str) -> str:
    parts = PurePosixPath(key[len(PREFIX):]).parts
    if len(parts) == 1:
        return DEFAULT_TENANT
    if len(parts) == 2 and _TENANT.match(parts[0]):
        return parts[0]
    raise InvalidManifestError(
        f"{key}: put a manifest at batches/<name>.csv|json or batches/<tenant>/<name>.csv|json"
    )


def _slug(text: str, limit: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "batch"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def batch_execution_name(bucket: str, key: str, etag: str) -> str:
    """<slug>-<16 hex>, at most 58 characters, [a-z0-9-] only (a valid execution name)."""
    return f"{_slug(manifest_name(key), 40)}-{_digest(bucket, key, normalise_etag(etag))[:16]}"


def video_id(bucket: str, key: str, etag: str, row: int) -> str:
    """<slug>-r<row>-<12 hex>: the video's execution name and job id (at most 80 characters)."""
    return f"{_slug(manifest_name(key), 40)}-r{row}-{_digest(bucket, key, normalise_etag(etag), str(row))[:12]}"


def report_key(key: str) -> str:
    return f"{REPORTS}{manifest_name(key)}.json"


def items_key(batch_id: str) -> str:
    return f"{WORK}{batch_id}/items.json"


def execution_arn(state_machine_arn: str, name: str) -> str:
    """arn:...:stateMachine:<machine> -> arn:...:execution:<machine>:<name>"""
    head, _, machine = state_machine_arn.rpartition(":stateMachine:")
    return f"{head}:execution:{machine}:{name}"

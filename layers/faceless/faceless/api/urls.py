"""Download URLs for a job's outputs, valid for at most one hour.

In the cloud: S3 presigned GET URLs. Locally (`faceless serve`): the same idea, an HMAC-signed and
expiring URL that the local server itself answers from the blob-store folder.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any, Protocol
from urllib.parse import quote, unquote

from faceless.jobs import LazyClient

FILES_PATH = "/files/"


class UrlSigner(Protocol):
    def url(self, key: str, base_url: str) -> str:
        """A URL that downloads blob `key` until it expires (`base_url`: where this API answers)."""
        ...


class S3UrlSigner:
    def __init__(self, bucket: str, ttl_seconds: int = 3600, client: Any = None, region: str | None = None) -> None:
        from botocore.config import Config

        self.bucket, self.ttl = bucket, min(int(ttl_seconds), 3600)
        # SigV4 (X-Amz-Expires): the signature every region accepts; regional virtual-hosted URLs
        self._client = LazyClient("s3", region, client, Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))

    def url(self, key: str, base_url: str) -> str:
        return self._client().generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=self.ttl
        )


class LocalUrlSigner:
    def __init__(self, secret: str | bytes, ttl_seconds: int = 3600, clock=time.time) -> None:
        self.secret = secret.encode() if isinstance(secret, str) else secret
        self.ttl = min(int(ttl_seconds), 3600)
        self.clock = clock

    def _signature(self, key: str, expires: int) -> str:
        return hmac.new(self.secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def url(self, key: str, base_url: str) -> str:
        expires = int(self.clock()) + self.ttl
        return f"{base_url.rstrip('/')}{FILES_PATH}{quote(key)}?expires={expires}&signature={self._signature(key, expires)}"

    def verify(self, path: str, expires: str | None, signature: str | None) -> str | None:
        """The blob key a `/files/...` request may read, or None (tampered, expired or unsigned)."""
        if not path.startswith(FILES_PATH) or not expires or not signature:
            return None
        key = unquote(path[len(FILES_PATH):])
        try:
            deadline = int(expires)
        except ValueError:
            return None
        if deadline < self.clock() or not hmac.compare_digest(self._signature(key, deadline), signature):
            return None
        return key

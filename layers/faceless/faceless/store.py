"""The blob store: a local folder (so a user can open every intermediate file) or S3."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from faceless.errors import BlobNotFoundError


class BlobStore(Protocol):
    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str: ...
    def get_bytes(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str) -> list[str]: ...
    def folders(self, prefix: str) -> list[str]:
        """The names of the folders right under `prefix` (the job ids under jobs/<tenant>)."""
        ...
    def local_path(self, key: str) -> Path:
        """A readable local file with the blob's bytes (the file itself for a local store)."""
        ...
    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> str: ...
    def describe(self, key: str) -> str:
        """Where a person finds the blob: a path or an s3:// URL."""
        ...
    def hold_writes(self) -> None:
        """From now on only the calling thread writes (see `_WriteHold`)."""
        ...
    def claim(self, prefix: str) -> None:
        """This process writes under `prefix` until `release(prefix)` or until it ends, however it ends."""
        ...
    def release(self, prefix: str) -> None: ...
    def in_use(self, prefix: str) -> bool:
        """Whether a live process (this one too) has claimed `prefix`."""
        ...


class _WriteHold:
    """Lets one thread take the store for itself when the user stops a local run (Ctrl-C): writes under
    way are let finish, then a write from any other thread (a step still running) waits until the
    process ends, which it does at once (interrupt.exit_now), so nothing overwrites what the
    interruption records (status.json, a batch's report)."""

    def __init__(self) -> None:
        self._writes = threading.Condition()
        self._writing = 0
        self._holder: int | None = None

    def hold_writes(self) -> None:
        with self._writes:
            self._holder = threading.get_ident()
            self._writes.wait_for(lambda: self._writing == 0, timeout=10)

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        with self._writes:
            held = self._holder is not None and self._holder != threading.get_ident()
            if not held:
                self._writing += 1
        if held:
            threading.Event().wait()  # never set: the process ends around this thread
        try:
            yield
        finally:
            with self._writes:
                self._writing -= 1
                self._writes.notify_all()


class _FolderClaims:
    """Claims on a local folder's prefixes, for telling a video another process is still making (`faceless
    make` beside `faceless serve`) from one a killed process left: a claim is an exclusive OS file lock
    (`filelock`: flock, or msvcrt's on Windows) on a file under `<root>/.claims/`, which the system lets
    go when its process ends, even by `kill -9`. Where the folder cannot be locked, nothing is claimed
    and nothing is in use: a left video is then taken for an abandoned one."""

    def __init__(self, root: Path) -> None:
        self._root = root / ".claims"
        self._held: dict[str, Any] = {}  # prefix -> its acquired FileLock
        self._lock = threading.Lock()

    def _path(self, prefix: str) -> Path:
        return self._root / f"{_safe_key(prefix)}.lock"

    def _file_lock(self, prefix: str) -> Any:
        from filelock import FileLock

        path = self._path(prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        # not thread-local: the step that claims and the one that lets go run on different threads; no
        # soft (file-exists) fallback: it would outlive a killed process, and its video look made forever
        return FileLock(path, thread_local=False, fallback_to_soft=False)

    def claim(self, prefix: str) -> None:
        from filelock import Timeout

        with self._lock:
            if prefix in self._held:
                return
            try:
                lock = self._file_lock(prefix)
                lock.acquire(timeout=0)
            except (Timeout, OSError):  # another process claims it (it writes there), or no locks here
                return
            self._held[prefix] = lock

    def release(self, prefix: str) -> None:
        with self._lock:
            lock = self._held.pop(prefix, None)
        if lock is not None:
            with contextlib.suppress(OSError):  # the name goes while it is held (filelock retries a lock on a gone file)
                self._path(prefix).unlink()
            lock.release()

    def in_use(self, prefix: str) -> bool:
        from filelock import Timeout

        with self._lock:
            if prefix in self._held:
                return True
        if not self._path(prefix).exists():  # never claimed, or let go
            return False
        try:
            probe = self._file_lock(prefix)
            probe.acquire(timeout=0)
        except Timeout:
            return True
        except OSError:
            return False
        probe.release()
        return False


def put_json(store: BlobStore, key: str, value: Any) -> str:
    return store.put_bytes(key, json.dumps(value, indent=2, ensure_ascii=False).encode(), "application/json")


def get_json(store: BlobStore, key: str) -> Any:
    return json.loads(store.get_bytes(key))


def _safe_key(key: str) -> str:
    parts = [p for p in key.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise ValueError(f"invalid blob key: {key!r}")
    return "/".join(parts)


class LocalBlobStore(_WriteHold):
    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = Path(root).resolve()
        self._claims = _FolderClaims(self.root)

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        path = self._path(key)
        with self._write():
            path.parent.mkdir(parents=True, exist_ok=True)
            # write then rename, so a concurrent reader never sees half a file
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, prefix=".tmp-") as tmp:
                tmp.write(data)
            Path(tmp.name).replace(path)
        return key

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> str:
        target = self._path(key)
        if Path(path).resolve() != target:
            with self._write():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        return key

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFoundError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return sorted(
            str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file() and not p.name.startswith(".tmp-")
        )

    def folders(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFoundError(key)
        return path

    def describe(self, key: str) -> str:
        return str(self._path(key))

    def claim(self, prefix: str) -> None:
        self._claims.claim(prefix)

    def release(self, prefix: str) -> None:
        self._claims.release(prefix)

    def in_use(self, prefix: str) -> bool:
        return self._claims.in_use(prefix)


class S3BlobStore(_WriteHold):
    def __init__(self, bucket: str, client: Any = None, scratch: Path | None = None) -> None:
        import boto3

        super().__init__()
        self.bucket = bucket
        self.client = client or boto3.client("s3")
        self.scratch = Path(scratch or tempfile.gettempdir()) / "faceless-blobs"

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        with self._write():
            self.client.put_object(Bucket=self.bucket, Key=_safe_key(key), Body=data, ContentType=content_type)
        return key

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> str:
        with self._write():
            self.client.upload_file(str(path), self.bucket, _safe_key(key), ExtraArgs={"ContentType": content_type})
        return key

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=_safe_key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise BlobNotFoundError(key) from None

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=_safe_key(key))
            return True
        except ClientError:
            return False

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=_safe_key(prefix) + "/"):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return sorted(keys)

    def folders(self, prefix: str) -> list[str]:
        names: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=_safe_key(prefix) + "/", Delimiter="/"):
            names.extend(common["Prefix"].rstrip("/").rsplit("/", 1)[-1] for common in page.get("CommonPrefixes", []))
        return sorted(names)

    def local_path(self, key: str) -> Path:
        path = self.scratch / _safe_key(key)
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.get_bytes(key))
        return path

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{_safe_key(key)}"

    # in the cloud the jobs table says which videos are being made: the bucket needs no claims
    def claim(self, prefix: str) -> None:
        pass

    def release(self, prefix: str) -> None:
        pass

    def in_use(self, prefix: str) -> bool:
        return False

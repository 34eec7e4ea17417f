"""The AWS clients the batch functions use (S3 for the manifest and the item list, Step Functions to
start executions), built once per process: module-level reuse when a Lambda is warm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faceless.batch.callbacks import StepFunctionsCallbacks, TaskCallbacks


@dataclass
class BatchClients:
    s3: Any
    sfn: Any
    callbacks: TaskCallbacks


_clients: BatchClients | None = None


def clients() -> BatchClients:
    global _clients
    if _clients is None:
        import boto3
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 5})
        sfn = boto3.client("stepfunctions", config=config)
        _clients = BatchClients(s3=boto3.client("s3", config=config), sfn=sfn, callbacks=StepFunctionsCallbacks(sfn))
    return _clients


def use_clients(value: BatchClients | None) -> None:
    """Install clients for every batch handler in this process (the embedded runner, tests); None resets."""
    global _clients
    _clients = value

"""Answering a batch row's task token: the video machine's Finalize and RecordFailure call these when
the video was started by the batch machine (`lambda:invoke.waitForTaskToken`)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from faceless.observability import logger

# The batch already gave up on this row (timed out, aborted) or the token is not one of ours:
# nothing left to answer, and the video itself is fine, so these are logged, never raised.
_GONE = ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken")
MAX_ERROR = 256  # SendTaskFailure limits
MAX_CAUSE = 32_768


class TaskCallbacks(Protocol):
    def succeed(self, token: str, output: dict[str, Any]) -> None: ...
    def fail(self, token: str, error: str, cause: str) -> None: ...


class StepFunctionsCallbacks:
    """SendTaskSuccess / SendTaskFailure through boto3 (moto's engine locally, Step Functions in the cloud).

    botocore retries throttling itself (standard mode); an answer that still cannot be sent is logged and
    dropped rather than raised, so a finished video is never marked failed because the batch went away:
    the batch row then ends by its own TimeoutSeconds.
    """

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client("stepfunctions", config=Config(retries={"mode": "standard", "max_attempts": 5}))
        return self._client

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        self._send("send_task_success", taskToken=token, output=json.dumps(output))

    def fail(self, token: str, error: str, cause: str) -> None:
        self._send("send_task_failure", taskToken=token, error=error[:MAX_ERROR], cause=cause[:MAX_CAUSE])

    def _send(self, operation: str, **params: Any) -> None:
        from botocore.exceptions import ClientError

        try:
            getattr(self.client, operation)(**params)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            level = logger.warning if code in _GONE else logger.error
            level("the batch task token could not be answered", extra={"operation": operation, "code": code})
        except Exception as error:  # noqa: BLE001 - a finished video never fails because its batch cannot hear
            logger.error("the batch task token could not be answered", extra={"operation": operation, "error": repr(error)})

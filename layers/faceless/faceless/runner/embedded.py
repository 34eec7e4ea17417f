"""The embedded runner: runs the project's own ASL files in moto's Step Functions interpreter and
answers every Lambda invoke in-process with the handler that template.yaml names.

We do not interpret ASL ourselves. moto's engine calls `boto3.client("lambda").invoke(...)` for each
Task; two botocore event hooks on the default session turn that call into a direct call of our
Python handler: `before-parameter-build` keeps the call's parameters, `before-call` runs the handler
and returns its JSON (or `FunctionError: Unhandled` with `errorType` = the exception's class name, as
real Lambda does, so the ASL's Retry and Catch match our error classes).
"""

from __future__ import annotations

import functools
import importlib.util
import io
import logging
import json
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from faceless.runner.project import ACCOUNT, REGION, FunctionSpec, Project, find_project_root

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/faceless-local"


@dataclass
class Invocation:
    """One Lambda call as the runner saw it (for progress displays and tests)."""

    function: str
    event: Any
    started: float
    ended: float | None = None
    error: str | None = None
    result: Any = None
    thread: int = 0


@dataclass
class ExecutionResult:
    execution_arn: str
    status: str  # SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    output: Any = None
    error: str | None = None
    cause: str | None = None
    seconds: float = 0.0
    invocations: list[Invocation] = field(default_factory=list)


@dataclass
class LambdaContext:
    """What powertools reads from a real Lambda context object."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


Listener = Callable[[str, Invocation], None]  # ("start" | "end", invocation)


def _quiet_moto_branch_races() -> None:
    """When one Parallel branch fails, moto's sibling branch threads may raise "Could not set
    NextState value when in state ProgramEnded" as they wind down. The execution's result is
    already decided and correct; only the thread's traceback would leak to the user's terminal."""
    previous = threading.excepthook
    if getattr(previous, "_faceless", False):
        return

    def hook(args: threading.ExceptHookArgs) -> None:
        if isinstance(args.exc_value, RuntimeError) and "ProgramEnded" in str(args.exc_value):
            return
        previous(args)

    hook._faceless = True  # type: ignore[attr-defined]
    threading.excepthook = hook


# what the app calls on moto's DynamoDB backend; the batch and transaction calls go through these too
_DYNAMODB_ITEM_METHODS = (
    "put_item", "get_item", "update_item", "delete_item", "query", "scan", "transact_write_items",
)  # fmt: skip
_DYNAMODB_LOCK = threading.RLock()


def make_moto_dynamodb_atomic() -> None:
    """Real DynamoDB applies a conditional write atomically; moto checks the condition, then writes,
    with no lock between. With the Map's threads reporting progress while RecordFailure marks the
    job failed, a progress report could check "still running", let the failure land, then write
    "running" over it: the job looked running forever. One lock around moto's item operations
    gives the local tables DynamoDB's atomicity."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in _DYNAMODB_ITEM_METHODS:
        method = getattr(DynamoDBBackend, name)
        if not getattr(method, "_faceless", False):
            setattr(DynamoDBBackend, name, _under_dynamodb_lock(method))


def _under_dynamodb_lock(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _DYNAMODB_LOCK:
            return method(*args, **kwargs)

    locked._faceless = True  # type: ignore[attr-defined]
    return locked


def _skip_executions_not_yet_running() -> None:
    """moto's SendTaskSuccess / SendTaskFailure look for the token in every execution's environment, but
    an execution that was just started (a batch row starting its video at that moment) has no environment
    until its worker thread runs: moto then raises AttributeError and the answer is lost. Such an
    execution cannot hold a task token yet, so it is skipped (a race of moto's engine, not of ours)."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend._get_executions
    if getattr(original, "_faceless", False):
        return

    def _get_executions(self: Any, execution_status: Any = None) -> list[Any]:
        return [e for e in original(self, execution_status)
                if getattr(e, "exec_worker", None) is not None and getattr(e.exec_worker, "env", None) is not None]

    _get_executions._faceless = True  # type: ignore[attr-defined]
    StepFunctionsParserBackend._get_executions = _get_executions  # type: ignore[method-assign]


class EmbeddedRunner:
    """Use as a context manager: `with EmbeddedRunner() as runner: runner.run("VideoStateMachine", input)`."""

    def __init__(
        self, project_root: Path | None = None, listener: Listener | None = None, poll_seconds: float = 0.05,
        keep_invocations: bool = True,
    ):  # fmt: skip
        self.project = Project.load(project_root or find_project_root())
        self.listener = listener
        self.poll_seconds = poll_seconds
        # every invoke's event and result, for tests and one-off runs; a long-lived server keeps none
        self.keep_invocations = keep_invocations
        self.invocations: list[Invocation] = []
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()
        self._mock: Any = None
        self._machine_arns: dict[str, str] = {}
        self.overrides: dict[str, Callable[[Any, Any], Any]] = {}  # logical id -> handler (tests)

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> EmbeddedRunner:
        from moto import mock_aws

        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
        # moto logs every failed branch at ERROR; the result (status, error, cause) is what we report
        logging.getLogger("moto").setLevel(logging.DEBUG if os.environ.get("FACELESS_DEBUG") else logging.CRITICAL)
        _quiet_moto_branch_races()
        _skip_executions_not_yet_running()
        make_moto_dynamodb_atomic()
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        import boto3

        # moto resets boto3's default session when it starts; hook the fresh one
        boto3.setup_default_session(region_name=REGION)
        events = boto3.DEFAULT_SESSION.events
        events.register("before-parameter-build.lambda.Invoke", self._keep_params)
        events.register("before-call.lambda.Invoke", self._invoke)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None

    # ------------------------------------------------------------------ running

    def state_machine_arn(self, logical_id: str, extra_substitutions: dict[str, str] | None = None) -> str:
        if logical_id not in self._machine_arns:
            spec = self.project.state_machines[logical_id]
            for other in spec.machines_referenced():  # e.g. the batch machine starts the video machine
                if other != logical_id:
                    self.state_machine_arn(other)
            arn = self.sfn.create_state_machine(
                name=logical_id,
                definition=spec.definition(self.project.functions, extra_substitutions, self.project.parameters),
                roleArn=ROLE_ARN,
            )["stateMachineArn"]
            self._machine_arns[logical_id] = arn
        return self._machine_arns[logical_id]

    def start(self, logical_id: str, payload: dict[str, Any], name: str | None = None) -> str:
        return self.sfn.start_execution(
            stateMachineArn=self.state_machine_arn(logical_id),
            name=name or uuid.uuid4().hex,
            input=json.dumps(payload),
        )["executionArn"]

    def wait(self, execution_arn: str, timeout_seconds: float = 3600) -> ExecutionResult:
        started = time.monotonic()
        while True:
            described = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() - started > timeout_seconds:
                self.sfn.stop_execution(executionArn=execution_arn, error="Timeout", cause="local runner timeout")
                described = self.sfn.describe_execution(executionArn=execution_arn)
                break
            time.sleep(self.poll_seconds)
        output = described.get("output")
        return ExecutionResult(
            execution_arn=execution_arn,
            status=described["status"],
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            seconds=time.monotonic() - started,
            invocations=[i for i in self.invocations],
        )

    def run(self, logical_id: str, payload: dict[str, Any], name: str | None = None, timeout_seconds: float = 3600) -> ExecutionResult:
        return self.wait(self.start(logical_id, payload, name), timeout_seconds)

    # ------------------------------------------------------------------ the Lambda invoke hooks

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["faceless_invoke"] = dict(params)

    def _invoke(self, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse

        params = context.get("faceless_invoke", {})
        logical_id = str(params.get("FunctionName", "")).split(":")[-1]
        raw = params.get("Payload") or b"{}"
        event = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        invocation = Invocation(function=logical_id, event=event, started=time.time(), thread=threading.get_ident())
        if self.keep_invocations:
            with self._lock:
                self.invocations.append(invocation)
        self._notify("start", invocation)
        response: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        try:
            handler = self.handler(logical_id)
            spec = self.project.functions.get(logical_id)
            result = handler(event, LambdaContext(function_name=logical_id, invoked_function_arn=spec.arn if spec else logical_id))
            body = json.dumps(result)
            invocation.result = result
        except Exception as error:  # noqa: BLE001 - becomes the Lambda error, as in the cloud
            invocation.error = type(error).__name__
            response["FunctionError"] = "Unhandled"
            body = json.dumps(
                {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error)[-5:],
                }
            )
        invocation.ended = time.time()
        self._notify("end", invocation)
        response["Payload"] = io.BytesIO(body.encode())
        return AWSResponse(f"https://lambda.{REGION}.amazonaws.com", 200, {}, None), response

    def _notify(self, phase: str, invocation: Invocation) -> None:
        if self.listener is not None:
            try:
                self.listener(phase, invocation)
            except Exception:  # noqa: BLE001 - a display problem must never fail a video
                pass

    def handler(self, logical_id: str) -> Callable[[Any, Any], Any]:
        if logical_id in self.overrides:
            return self.overrides[logical_id]
        spec = self.project.functions.get(logical_id)
        if spec is None:
            raise LookupError(f"template.yaml declares no function {logical_id}")
        with self._lock:
            module = self._modules.get(logical_id) or self._load(spec)
            self._modules[logical_id] = module
        return getattr(module, spec.handler_name)

    @staticmethod
    def _load(spec: FunctionSpec) -> ModuleType:
        # each function's app.py loads under its own name: functions never import each other
        module_spec = importlib.util.spec_from_file_location(f"faceless_fn_{spec.logical_id}", spec.handler_file)
        if module_spec is None or module_spec.loader is None:
            raise LookupError(f"cannot load {spec.handler_file}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return module

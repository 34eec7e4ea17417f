"""Shared by the API tests: the cloud surface in moto (tables, a video state machine that records
executions without running them, two tenants) and the two handlers called as Lambda calls them."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from faceless.runner.embedded import EmbeddedRunner, LambdaContext
from faceless.runner.project import Project

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events" / "http"
PROJECT = Project.load(ROOT)
KEY_A = "fl_test_tenant_a_key_0123456789"  # the key in the sample events
KEY_B = "fl_test_tenant_b_key_9876543210"
URL_SECRET = "test-url-secret"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def handler(logical_id: str):
    spec = PROJECT.functions[logical_id]
    module = EmbeddedRunner._load(spec)
    return lambda event: module.lambda_handler(event, LambdaContext(function_name=logical_id, invoked_function_arn=spec.arn))


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Cloud:
    settings: Any
    context: Any
    sfn: Any
    machine_arn: str
    api: Any
    authorizer: Any

    def executions(self) -> list[dict[str, Any]]:
        listed = self.sfn.list_executions(stateMachineArn=self.machine_arn)["executions"]
        return [self.sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]

    def call(
        self,
        method: str,
        path: str,
        *,
        tenant: str | None = "tenant-a",
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Response:
        """The api handler answering a real-shaped HTTP API v2 event (as after the authorizer)."""
        event = copy.deepcopy(sample("post_videos" if method == "POST" else "get_usage"))
        event["headers"].pop("idempotency-key", None)
        event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
        route = path
        if path.startswith("/videos/"):
            event["pathParameters"] = {"video_id": path.split("/", 2)[2]}
            route = "/videos/{video_id}"
        event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {route}"
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["requestContext"]["http"]["method"] = method
        if query:
            event["queryStringParameters"] = query
            event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
        if tenant is None:
            event["requestContext"].pop("authorizer", None)
        else:
            event["requestContext"]["authorizer"] = {"lambda": {"tenant_id": tenant}}
        event.pop("body", None)
        event["isBase64Encoded"] = False
        if raw is not None:
            event["body"] = base64.b64encode(raw).decode()
            event["isBase64Encoded"] = True
        elif body is not None:
            event["body"] = body if isinstance(body, str) else json.dumps(body)
        result = self.api(event)
        json.dumps(result)  # what a Lambda returns must be JSON
        text = result.get("body") or ""
        return Response(result["statusCode"], json.loads(text) if text else None, result.get("headers") or {})


@pytest.fixture
def cloud(tmp_path):
    """Tables, a recorded-only state machine and tenants A and B, in moto; the API context installed."""
    import boto3
    from moto import mock_aws

    from faceless.api.context import ApiContext, use_api_context
    from faceless.api.tables import create_tables, with_local_tables
    from faceless.settings import Settings

    with mock_aws():
        settings = with_local_tables(Settings(home=tmp_path / "blobs", url_secret=URL_SECRET, region="us-east-1"))
        create_tables(settings)
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(
            name="VideoStateMachine",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::123456789012:role/faceless-local",
        )["stateMachineArn"]
        settings = settings.model_copy(update={"video_state_machine_arn": machine})
        context = ApiContext(settings)
        use_api_context(context)
        context.tenants.create("Tenant A", tenant_id="tenant-a", api_key=KEY_A)
        context.tenants.create("Tenant B", tenant_id="tenant-b", api_key=KEY_B)
        try:
            yield Cloud(settings, context, sfn, machine, handler("ApiFunction"), handler("AuthorizerFunction"))
        finally:
            use_api_context(None)

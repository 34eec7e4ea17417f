"""The Lambda authorizer with the real-shaped REQUEST event (payload 2.0, simple responses), and
tenants: keys stored as sha256 only, `faceless tenant create` printing a key once."""

from __future__ import annotations

import copy
import io
import json

import pytest

from faceless.runner.cli import main
from faceless.tenants import hash_key

from tests.functional.apisupport import KEY_A, KEY_B, cloud, sample  # noqa: F401 - the fixture


def authorizer_event(authorization: str | None) -> dict:
    event = copy.deepcopy(sample("authorizer_request"))
    if authorization is None:
        event["headers"].pop("authorization")
        event["identitySource"] = []
    else:
        event["headers"]["authorization"] = authorization
        event["identitySource"] = [authorization]
    return event


def test_a_tenants_key_is_authorized_with_its_tenant_id_in_the_context(cloud):
    # GIVEN the sample event, carrying tenant A's key
    # WHEN the authorizer answers
    verdict = cloud.authorizer(sample("authorizer_request"))
    # THEN a simple response: authorized, tenant id in the context
    assert verdict == {"isAuthorized": True, "context": {"tenant_id": "tenant-a"}}
    assert cloud.authorizer(authorizer_event(f"Bearer {KEY_B}"))["context"] == {"tenant_id": "tenant-b"}
    assert cloud.authorizer(authorizer_event(f"bearer   {KEY_B}"))["context"] == {"tenant_id": "tenant-b"}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer wrong-key-0123456789", f"Basic {KEY_A}", f"Bearer {KEY_A}x", f"Bearer {KEY_A[:-1]}", "Bearer " + "k" * 600],
)
def test_no_key_or_a_wrong_key_raises_unauthorized_which_api_gateway_answers_401(cloud, authorization):
    # WHEN the key is missing or no tenant holds it
    with pytest.raises(Exception) as raised:
        cloud.authorizer(authorizer_event(authorization))
    # THEN the function fails with exactly "Unauthorized" (API Gateway's cue for a 401)
    assert str(raised.value) == "Unauthorized"


def test_the_tenants_table_keeps_hashes_never_keys(cloud):
    items = cloud.context.tenants.client.scan(TableName=cloud.settings.tenants_table)["Items"]
    dumped = json.dumps(items)
    assert KEY_A not in dumped and KEY_B not in dumped
    assert f"KEY#{hash_key(KEY_A)}" in dumped


def test_faceless_tenant_create_prints_a_key_once_that_the_authorizer_accepts(cloud, monkeypatch):
    # GIVEN the deployed stack's tenants table name in the environment
    monkeypatch.setenv("FACELESS_TENANTS_TABLE", cloud.settings.tenants_table)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    out, err = io.StringIO(), io.StringIO()
    # WHEN an operator creates a tenant
    status = main(["tenant", "create", "--name", "Acme Videos"], out=out, err=err)
    # THEN the key is printed, and it authorizes as the new tenant
    assert status == 0, err.getvalue()
    printed = dict(line.split(":", 1) for line in out.getvalue().splitlines() if line.startswith(("tenant_id", "api_key")))
    tenant_id, key = printed["tenant_id"].strip(), printed["api_key"].strip()
    assert tenant_id.startswith("acme-videos-") and key.startswith("fl_") and len(key) > 40
    verdict = cloud.authorizer(authorizer_event(f"Bearer {key}"))
    assert verdict["context"] == {"tenant_id": tenant_id}
    assert cloud.context.tenants.get(tenant_id).name == "Acme Videos"


def test_faceless_tenant_create_without_a_table_says_what_to_set(monkeypatch):
    monkeypatch.delenv("FACELESS_TENANTS_TABLE", raising=False)
    err = io.StringIO()
    assert main(["tenant", "create", "--name", "Acme"], out=io.StringIO(), err=err) == 2
    assert "FACELESS_TENANTS_TABLE" in err.getvalue()

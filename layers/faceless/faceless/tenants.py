"""Tenants and their API keys. A key is shown once, at creation; the tenants table keeps only its
sha256, so a leaked table leaks no key. Two items per tenant in one table (`pk` hash key):

    KEY#<sha256 of the key>  -> {tenant_id}              what the authorizer reads (one GetItem)
    TENANT#<tenant_id>       -> {name, created_at, ...}  the tenant itself
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from pydantic import BaseModel

from faceless.errors import ConfigurationError, InvalidRequestError
from faceless.jobs import LazyClient, from_item, now_iso, to_item

KEY_PREFIX = "fl_"
TABLE_SCHEMA: dict[str, Any] = {
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
}
_TENANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class UnauthorizedError(Exception):
    """No key, or a key no tenant holds."""


class Tenant(BaseModel):
    tenant_id: str
    name: str
    created_at: str


class NewTenant(BaseModel):
    tenant: Tenant
    api_key: str  # shown once


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def bearer_key(authorization: str | None) -> str | None:
    """The key in `Authorization: Bearer <key>` (a bare key is accepted too)."""
    if not authorization:
        return None
    value = authorization.strip()
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() == "bearer":
        value = rest.strip()
    if not value or len(value) > 512 or any(c.isspace() for c in value):
        return None
    return value


def slug(name: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return text or "tenant"


class TenantDirectory:
    def __init__(self, table: str | None, client: Any = None, region: str | None = None) -> None:
        if not table:
            raise ConfigurationError("FACELESS_TENANTS_TABLE is not set (the stack's TenantsTableName output)")
        self.table = table
        self._client = LazyClient("dynamodb", region, client)

    @property
    def client(self) -> Any:
        return self._client()

    def create(self, name: str, tenant_id: str | None = None, api_key: str | None = None) -> NewTenant:
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidRequestError("--name: give a tenant name of 1 to 100 characters")
        tenant_id = tenant_id or f"{slug(name)}-{secrets.token_hex(3)}"
        if not _TENANT_ID.match(tenant_id):
            raise InvalidRequestError(f"tenant id {tenant_id!r} must be 1-64 of A-Z a-z 0-9 _ -")
        api_key = api_key or new_api_key()
        if len(api_key) < 16 or bearer_key(api_key) != api_key:
            raise InvalidRequestError("an API key (FACELESS_API_KEY too) needs at least 16 characters and no spaces")
        tenant = Tenant(tenant_id=tenant_id, name=name, created_at=now_iso())
        key_hash = hash_key(api_key)
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": to_item({"pk": f"TENANT#{tenant_id}", **tenant.model_dump(), "key_hash": key_hash}),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": to_item({"pk": f"KEY#{key_hash}", "tenant_id": tenant_id, "created_at": tenant.created_at}),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except self.client.exceptions.TransactionCanceledException:
            raise InvalidRequestError(f"tenant {tenant_id} or this key already exists") from None
        return NewTenant(tenant=tenant, api_key=api_key)

    def tenant_for_key(self, api_key: str) -> str | None:
        item = self.client.get_item(TableName=self.table, Key={"pk": {"S": f"KEY#{hash_key(api_key)}"}}).get("Item")
        if not item:
            return None
        tenant_id = from_item(item).get("tenant_id")
        return tenant_id if isinstance(tenant_id, str) and _TENANT_ID.match(tenant_id) else None

    def get(self, tenant_id: str) -> Tenant | None:
        item = self.client.get_item(TableName=self.table, Key={"pk": {"S": f"TENANT#{tenant_id}"}}).get("Item")
        return Tenant.model_validate(from_item(item)) if item else None


def authorize(authorization: str | None, directory: TenantDirectory) -> str:
    """The tenant id a request's `Authorization` header belongs to, or UnauthorizedError."""
    key = bearer_key(authorization)
    tenant_id = directory.tenant_for_key(key) if key else None
    if tenant_id is None:
        raise UnauthorizedError("Unauthorized")
    return tenant_id


def create_tenant_command(name: str, table: str | None, out: Any) -> None:
    """`faceless tenant create --name X`: create a tenant in the stack's tenants table and print its
    key once. Raises ConfigurationError / InvalidRequestError for the CLI to report."""
    import os

    from botocore.exceptions import BotoCoreError, ClientError

    directory = TenantDirectory(table or os.environ.get("FACELESS_TENANTS_TABLE"), region=os.environ.get("AWS_REGION") or None)
    try:
        created = directory.create(name)
    except (BotoCoreError, ClientError) as error:
        raise ConfigurationError(f"cannot write the tenants table {directory.table}: {error}") from None
    out.write(
        f"tenant_id: {created.tenant.tenant_id}\n"
        f"name:      {created.tenant.name}\n"
        f"api_key:   {created.api_key}\n"
        "The key is shown only this once (the table keeps its sha256): store it now.\n"
        "Use it as: Authorization: Bearer <api_key>\n"
    )

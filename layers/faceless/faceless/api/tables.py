"""The DynamoDB tables of the cloud surface, as template.yaml declares them; `create_tables` makes
them in whatever DynamoDB the client reaches (moto's, for `faceless serve` and the tests)."""

from __future__ import annotations

from typing import Any

from faceless import jobs, tenants
from faceless.jobs import LazyClient
from faceless.settings import Settings

LEDGER_SCHEMA: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
}
# powertools idempotency's default layout: key `id`, TTL on `expiration`
IDEMPOTENCY_SCHEMA: dict[str, Any] = {
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "jobs_table": jobs.TABLE_SCHEMA,
    "tenants_table": tenants.TABLE_SCHEMA,
    "ledger_table": LEDGER_SCHEMA,
    "idempotency_table": IDEMPOTENCY_SCHEMA,
}
TTL_ATTRIBUTES = {"idempotency_table": "expiration"}
LOCAL_NAMES = {
    "jobs_table": "faceless-jobs",
    "tenants_table": "faceless-tenants",
    "ledger_table": "faceless-ledger",
    "idempotency_table": "faceless-idempotency",
}


def with_local_tables(settings: Settings) -> Settings:
    """The settings with a name for every table that has none (a local run)."""
    missing = {field: name for field, name in LOCAL_NAMES.items() if not getattr(settings, field)}
    return settings.model_copy(update=missing)


def create_tables(settings: Settings, client: Any = None) -> list[str]:
    """Create each configured table that does not exist yet; the names created."""
    dynamodb = client or LazyClient("dynamodb", settings.region)()
    existing = set(dynamodb.list_tables().get("TableNames", []))
    created = []
    for field, schema in SCHEMAS.items():
        name = getattr(settings, field)
        if not name or name in existing:
            continue
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **schema)
        if field in TTL_ATTRIBUTES:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTES[field]}
            )
        created.append(name)
    return created

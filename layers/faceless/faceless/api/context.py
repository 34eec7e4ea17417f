"""What the API and the authorizer need, built from the settings once per process (lazily, so the
boto3 clients are made where they are used: inside moto's mock when one runs).

The API does not build the pipeline's Services (no models, no media libraries): a cold start stays
small. `use_api_context` installs another one (the local server, tests)."""

from __future__ import annotations

import json
from functools import cached_property, lru_cache
from typing import Any, Protocol

from faceless.api.urls import LocalUrlSigner, S3UrlSigner, UrlSigner
from faceless.errors import ConfigurationError
from faceless.jobs import DynamoJobsRepository, JobsRepository, LazyClient
from faceless.models import JobInput
from faceless.settings import Settings, get_settings
from faceless.tenants import TenantDirectory


class ExecutionStarter(Protocol):
    def start(self, job: JobInput) -> str:
        """Start the video state machine for this job (execution name = job id); its ARN."""
        ...


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str | None, client: Any = None, region: str | None = None) -> None:
        if not state_machine_arn:
            raise ConfigurationError("FACELESS_VIDEO_STATE_MACHINE_ARN is not set")
        self.arn = state_machine_arn
        self._client = LazyClient("stepfunctions", region, client)

    def start(self, job: JobInput) -> str:
        client = self._client()
        try:
            return client.start_execution(
                stateMachineArn=self.arn, name=job.job_id, input=json.dumps(job.model_dump(mode="json"))
            )["executionArn"]
        except client.exceptions.ExecutionAlreadyExists:
            # the same name and input is a no-op in Step Functions; a different input under the
            # same name cannot happen (ids are fresh), so this is a replay: nothing new starts
            return f"{self.arn.replace(':stateMachine:', ':execution:')}:{job.job_id}"


class ApiContext:
    def __init__(self, settings: Settings, **given: Any) -> None:
        self.settings = settings
        for name, value in given.items():  # jobs=, tenants=, executions=, urls=, idempotency_store=
            setattr(self, name, value)

    def _need(self, value: str | None, variable: str) -> str:
        if not value:
            raise ConfigurationError(f"{variable} is not set")
        return value

    @cached_property
    def jobs(self) -> JobsRepository:
        return DynamoJobsRepository(self._need(self.settings.jobs_table, "FACELESS_JOBS_TABLE"), region=self.settings.region)

    @cached_property
    def tenants(self) -> TenantDirectory:
        return TenantDirectory(self.settings.tenants_table, region=self.settings.region)

    @cached_property
    def executions(self) -> ExecutionStarter:
        return StepFunctionsStarter(self.settings.video_state_machine_arn, region=self.settings.region)

    @cached_property
    def urls(self) -> UrlSigner:
        if self.settings.blob_store == "s3":
            return S3UrlSigner(self._need(self.settings.bucket, "FACELESS_BUCKET"), self.settings.url_ttl_seconds, region=self.settings.region)
        secret = self._need(self.settings.url_secret, "FACELESS_URL_SECRET")
        return LocalUrlSigner(secret, self.settings.url_ttl_seconds)

    @cached_property
    def idempotency_store(self) -> Any:
        """powertools' DynamoDB persistence layer on the idempotency table."""
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        table = self._need(self.settings.idempotency_table, "FACELESS_IDEMPOTENCY_TABLE")
        return DynamoDBPersistenceLayer(table_name=table, boto3_client=LazyClient("dynamodb", self.settings.region)())

    def warm(self) -> ApiContext:
        """Make every client now, on this thread (a threaded server must not race to make them)."""
        for name in ("jobs", "tenants", "executions", "urls", "idempotency_store"):
            port = getattr(self, name)
            for attribute in ("client", "_client"):  # the lazy boto3 clients, made here
                made = getattr(port, attribute, None)
                if callable(made) and not hasattr(made, "meta"):
                    made()
        return self


_override: ApiContext | None = None


@lru_cache(maxsize=1)
def _default() -> ApiContext:
    return ApiContext(get_settings())


def api_context() -> ApiContext:
    return _override or _default()


def use_api_context(value: ApiContext | None) -> None:
    global _override
    _override = value
    _default.cache_clear()

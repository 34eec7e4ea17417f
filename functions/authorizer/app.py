"""Authorizer: the HTTP API's Lambda authorizer (REQUEST, payload 2.0, simple responses).
`Authorization: Bearer <key>` -> {"isAuthorized": true, "context": {"tenant_id": ...}}; an unknown
key raises "Unauthorized", which API Gateway answers with 401 (as it does a missing header)."""

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerEventV2,
    APIGatewayAuthorizerResponseV2,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.api.context import api_context
from faceless.observability import logger
from faceless.tenants import authorize


@logger.inject_lambda_context
@event_source(data_class=APIGatewayAuthorizerEventV2)
def lambda_handler(event: APIGatewayAuthorizerEventV2, context: LambdaContext) -> dict:
    tenant_id = authorize(event.headers.get("authorization"), api_context().tenants)
    return APIGatewayAuthorizerResponseV2(authorize=True, context={"tenant_id": tenant_id}).asdict()

"""Api: the HTTP API (POST /videos, GET /videos/{video_id}, GET /videos, GET /usage) through
powertools' APIGatewayHttpResolver; routes and their logic live in faceless.api."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.api.app import handle
from faceless.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return handle(event, context)

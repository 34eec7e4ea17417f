"""BatchIngest: validate every row of the manifest; valid rows become the Distributed Map's item list
(S3 JSON), invalid rows (row, field, message) go to the report."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.batch.clients import clients
from faceless.batch.models import IngestInput
from faceless.batch.steps import ingest
from faceless.bootstrap import services
from faceless.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    logger.set_correlation_id(event.get("batch_id"))
    return ingest(IngestInput.model_validate(event), clients(), services()).model_dump(mode="json")

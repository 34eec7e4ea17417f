"""BatchReport: reports/<name>.json lists every row's outcome (video id, status, outputs or error)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.batch.models import ReportInput
from faceless.batch.steps import report
from faceless.bootstrap import services
from faceless.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return report(ReportInput.model_validate(event), services()).model_dump(mode="json")

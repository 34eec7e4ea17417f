"""Fail: record why the job failed (the state machine's Catch lands here)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.bootstrap import services
from faceless.pipeline import FailInput, fail
from faceless.observability import correlate, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    correlate(event)
    return fail(FailInput.model_validate(event), services()).model_dump(mode="json")

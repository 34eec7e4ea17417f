"""Plan: turn the request into a job plan (level, segments, sizes) before any paid call."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.bootstrap import services
from faceless.models import JobInput
from faceless.pipeline import plan_job
from faceless.observability import correlate, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    correlate(event)
    return plan_job(JobInput.model_validate(event), services()).model_dump(mode="json")

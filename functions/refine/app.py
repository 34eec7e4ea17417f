"""Refine: dedupe similar prompts, fix multi-subject shots, merge context and style."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.bootstrap import services
from faceless.pipeline import RefineInput, refine_segments
from faceless.observability import correlate, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    correlate(event)
    return refine_segments(RefineInput.model_validate(event), services()).model_dump(mode="json")

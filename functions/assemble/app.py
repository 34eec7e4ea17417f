"""Assemble: Ken Burns clips, burned-in captions, narration and music into the video."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.bootstrap import services
from faceless.pipeline import AssembleInput, assemble
from faceless.observability import correlate, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    correlate(event)
    return assemble(AssembleInput.model_validate(event), services()).model_dump(mode="json")

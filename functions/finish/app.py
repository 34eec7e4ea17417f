"""Finish: join the segment clips by stream copy, one soundtrack pass, mux; captions files and thumbnail."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.bootstrap import services
from faceless.observability import correlate, logger, tracer
from faceless.pipeline import FinishInput, finish_step


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    correlate(event)
    return finish_step(FinishInput.model_validate(event), services()).model_dump(mode="json")

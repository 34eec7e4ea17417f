"""Voice: one narration clip with word timings for one segment."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.bootstrap import services
from faceless.pipeline import SegmentStepInput, make_voice
from faceless.observability import correlate, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    correlate(event)
    return make_voice(SegmentStepInput.model_validate(event), services()).model_dump(mode="json")

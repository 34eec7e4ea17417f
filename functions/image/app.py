"""Image: one picture for one segment."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.bootstrap import services
from faceless.pipeline import SegmentStepInput, make_image
from faceless.observability import correlate, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    correlate(event)
    return make_image(SegmentStepInput.model_validate(event), services()).model_dump(mode="json")

"""Bible: the character and setting sheet that keeps images consistent (quality level)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.bootstrap import services
from faceless.pipeline import ScriptStepInput, write_bible
from faceless.observability import correlate, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    correlate(event)
    return write_bible(ScriptStepInput.model_validate(event), services()).model_dump(mode="json")

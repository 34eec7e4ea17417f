"""Context: era, region, people and what to avoid, from the narration."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.bootstrap import services
from faceless.pipeline import ScriptStepInput, analyse_context
from faceless.observability import correlate, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    correlate(event)
    return analyse_context(ScriptStepInput.model_validate(event), services()).model_dump(mode="json")

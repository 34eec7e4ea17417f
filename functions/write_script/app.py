"""WriteScript: the storyteller writes the narration, title, description and hashtags."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.bootstrap import services
from faceless.pipeline import JobStepInput, write_script
from faceless.observability import correlate, logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    correlate(event)
    return write_script(JobStepInput.model_validate(event), services()).model_dump(mode="json")

"""BatchStart: one row's video execution, started with the batch's task token in its input (the video's
Finalize / RecordFailure answer it); named from (bucket, key, ETag, row), so nothing is started twice."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.batch.clients import clients
from faceless.batch.models import StartVideoInput
from faceless.batch.steps import start_video
from faceless.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    request = StartVideoInput.model_validate(event)
    logger.set_correlation_id(request.item.video_id)
    return start_video(request, clients()).model_dump(mode="json")

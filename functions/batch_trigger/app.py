"""BatchTrigger: an S3 "Object Created" event (EventBridge) under batches/ starts the batch machine,
named from (bucket, key, ETag): a re-delivered event finds the execution already there and starts nothing."""

import os

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.batch.clients import clients
from faceless.batch.models import BatchObject
from faceless.batch.steps import start_batch
from faceless.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    detail = parse(event=event, model=S3EventNotificationEventBridgeModel).detail
    manifest = BatchObject(bucket=detail.bucket.name, key=detail.object.key, etag=detail.object.etag)
    return start_batch(manifest, clients(), os.environ["BATCH_STATE_MACHINE_ARN"]).model_dump(mode="json")

"""RenderClip (container image): one segment's Ken Burns clip with its captions burned in.

A Map state runs one invocation per segment; the Finish step concatenates the clips, mixes the sound
once and muxes (see faceless.media.assemble: render_clip / finish)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from faceless.bootstrap import services
from faceless.observability import correlate, logger, tracer
from faceless.pipeline import RenderClipInput, render_clip_step


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    correlate(event)
    return render_clip_step(RenderClipInput.model_validate(event), services()).model_dump(mode="json")

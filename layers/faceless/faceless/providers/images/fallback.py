"""The image provider chain: the wanted provider first, then the other configured ones, then offline.

A provider that fails for a reason another may not share (its own outage after the SDK's
retries, its rate limit, its content policy, its quota) hands the segment to the next one, so one
provider's bad minute costs a picture's style, not the video. The picture records which provider
drew it. A bad request (our input) is not handed on: every provider would refuse it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from faceless.errors import FacelessError, InvalidRequestError
from faceless.providers.base import GeneratedImage, ImageGenerator, ImageRequest

log = logging.getLogger(__name__)


class FallbackImageGenerator:
    """`ImageGenerator` trying `generators` in order; the last one's error is raised if all fail."""

    def __init__(self, generators: Sequence[ImageGenerator]) -> None:
        if not generators:
            raise ValueError("a fallback chain needs at least one image generator")
        self.generators = list(generators)
        self.name = self.generators[0].name
        self.model = getattr(self.generators[0], "model", "")

    def generate(self, request: ImageRequest) -> GeneratedImage:
        last_error: FacelessError | None = None
        for position, generator in enumerate(self.generators):
            try:
                return generator.generate(request)
            except InvalidRequestError:
                raise
            except FacelessError as error:
                last_error = error
                following = self.generators[position + 1].name if position + 1 < len(self.generators) else None
                log.warning(
                    "image %d: %s failed (%s: %s)%s",
                    request.index,
                    generator.name,
                    type(error).__name__,
                    error,
                    f"; trying {following}" if following else "",
                )
        assert last_error is not None
        raise last_error


def provider_chain(wanted: str, available: dict[str, ImageGenerator], order: Sequence[str] = ("openai", "gemini")) -> list[ImageGenerator]:
    """The wanted provider (when configured), then the other configured real ones, then offline."""
    names = [wanted] if wanted in available and wanted != "offline" else []
    names += [name for name in order if name in available and name not in names and wanted != "offline"]
    names.append("offline")
    return [available[name] for name in names if name in available]

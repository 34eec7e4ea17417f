"""The real image adapters (OpenAI Images, Gemini generateContent) against a local server speaking
their wire protocols: native sizes per format, cover-fit without distortion, error translation,
the fallback chain and the paid-call cache. No network: the server is on 127.0.0.1."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceless.bootstrap import build_services, use_services
from faceless.errors import ProviderRejectedError, ProviderResponseError, ProviderThrottledError, TransientProviderError
from faceless.media.images import cover_fit_file
from faceless.models import FORMAT_SIZES, ImageAsset, VideoFormat
from faceless.providers.base import ImageRequest
from faceless.providers.images.cards import CardImageGenerator
from faceless.providers.images.fallback import FallbackImageGenerator
from faceless.providers.images.gemini import GeminiImageGenerator
from faceless.providers.images.openai_images import OpenAIImageGenerator
from faceless.runner.embedded import EmbeddedRunner, LambdaContext
from faceless.runner.project import Project
from tests.fakes.images_server import ErrorReply, FakeImagesServer, GeminiBlocked, GeminiTextOnly, ImageOf

ROOT = Path(__file__).resolve().parents[2]
PROJECT = Project.load(ROOT)
IMAGE_EVENT = json.loads((ROOT / "tests" / "events" / "video" / "ImageFunction.json").read_text())

# provider, model -> the native size it must return for each output format
NATIVE = {
    ("openai", "gpt-image-1"): {"9:16": (1024, 1536), "1:1": (1024, 1024), "16:9": (1536, 1024)},
    ("openai", "dall-e-3"): {"9:16": (1024, 1792), "1:1": (1024, 1024), "16:9": (1792, 1024)},
    ("gemini", "gemini-2.5-flash-image"): {"9:16": (768, 1344), "1:1": (1024, 1024), "16:9": (1344, 768)},
}


@pytest.fixture(scope="module")
def server():
    with FakeImagesServer(openai_key="sk-test", gemini_key="g-test") as running:
        yield running


def request(width: int = 1080, height: int = 1920, prompt: str = "a lighthouse on a cliff at dusk, cinematic") -> ImageRequest:
    return ImageRequest(index=3, prompt=prompt, text="The lighthouse stood alone.", shot="wide", art_style="cinematic", width=width, height=height)


def openai(server: FakeImagesServer, model: str = "gpt-image-1", **kwargs) -> OpenAIImageGenerator:
    return OpenAIImageGenerator(api_key="sk-test", model=model, base_url=server.openai_base_url, **kwargs)


def gemini(server: FakeImagesServer, **kwargs) -> GeminiImageGenerator:
    kwargs.setdefault("retry_initial_delay", 0.01)
    return GeminiImageGenerator(api_key="g-test", base_url=server.gemini_base_url, **kwargs)


def disc_proportions(image: Image.Image) -> tuple[float, float]:
    """(width / height of the picture's central black disc, its diameter / the short side)."""
    dark = np.asarray(image.convert("L")) < 128
    h, w = dark.shape
    inner = dark[h // 8 : h - h // 8, w // 8 : w - w // 8]  # away from the frame lines
    rows = np.flatnonzero(inner.any(axis=1))
    cols = np.flatnonzero(inner.any(axis=0))
    width, height = cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1
    return width / height, height / min(h, w)


def disc_fit_aspect(image: Image.Image) -> float:
    """Width / height of the ellipse best fitting the disc's edge, even when a camera move crops
    the disc: thin frame lines are removed (a max filter), then x²/a² + y²/b² is fitted by least
    squares to the edge points that are not on the picture's border."""
    from PIL import ImageFilter

    dark = np.asarray(image.convert("L").filter(ImageFilter.MaxFilter(9))) < 128
    inside = dark[1:-1, 1:-1]
    edge = inside & ~(dark[:-2, 1:-1] & dark[2:, 1:-1] & dark[1:-1, :-2] & dark[1:-1, 2:])
    ys, xs = np.nonzero(edge)
    h, w = inside.shape
    keep = (xs > 3) & (xs < w - 4) & (ys > 3) & (ys < h - 4)
    x, y = xs[keep].astype(float), ys[keep].astype(float)
    # A x² + B y² + C x + D y = 1
    coefficients, *_ = np.linalg.lstsq(np.column_stack([x * x, y * y, x, y]), np.ones_like(x), rcond=None)
    a_term, b_term = coefficients[:2]
    return float(np.sqrt(b_term / a_term))


# --------------------------------------------------------------------------- acceptance 4


@pytest.mark.parametrize("video_format", [f.value for f in VideoFormat])
@pytest.mark.parametrize(("provider", "model"), list(NATIVE))
def test_each_format_gets_the_providers_native_size_and_is_cover_fitted_without_distortion(
    server, settings, tmp_path, video_format, provider, model
):
    # GIVEN the real adapter for this provider, wired by bootstrap against the local server
    settings = settings.model_copy(
        update={
            "openai_api_key": "sk-test", "openai_base_url": server.openai_base_url, "openai_image_model": model
            if provider == "openai" else "gpt-image-1",
            "gemini_api_key": "g-test", "gemini_base_url": server.gemini_base_url,
        }
    )  # fmt: skip
    services = build_services(settings)
    use_services(services)
    width, height = FORMAT_SIZES[VideoFormat(video_format)]
    event = json.loads(json.dumps(IMAGE_EVENT))
    event["job"]["plan"].update({"image_provider": provider, "width": width, "height": height})
    before = len(server.calls(provider))
    try:
        # WHEN the Image handler runs as Lambda calls it
        handler = getattr(EmbeddedRunner._load(PROJECT.functions["ImageFunction"]), "lambda_handler")
        asset = ImageAsset.model_validate(handler(event, LambdaContext("ImageFunction", "arn:local")))
    finally:
        use_services(None)

    # THEN the provider was called once and the stored picture is its native size for the format
    assert len(server.calls(provider)) == before + 1
    native = NATIVE[(provider, model)][video_format]
    stored = Image.open(services.store.local_path(asset.key))
    assert (asset.provider, asset.width, asset.height) == (provider, *native)
    assert stored.size == native and stored.format == "PNG"
    # AND the cover-fit assembly applies gives exactly the output size, the disc still round
    fitted = Image.open(cover_fit_file(services.store.local_path(asset.key), width, height, tmp_path / "fit.png"))
    assert fitted.size == (width, height)
    source_aspect, _ = disc_proportions(stored)
    fitted_aspect, fitted_share = disc_proportions(fitted)
    assert source_aspect == pytest.approx(1.0, abs=0.01)
    assert fitted_aspect == pytest.approx(source_aspect, abs=0.02)
    # and scaled to cover (the disc is 60% of the source's short side, scaled by max(W/w, H/h))
    scale = max(width / native[0], height / native[1])
    assert fitted_share * min(width, height) == pytest.approx(0.6 * min(native) * scale, rel=0.03)
    # (the measure sees distortion: a plain resize to the output stretches the disc by exactly that much)
    squashed_aspect, _ = disc_proportions(stored.resize((width, height)))
    assert squashed_aspect == pytest.approx((width / native[0]) / (height / native[1]), abs=0.01)


def test_a_video_frame_from_a_native_portrait_picture_is_not_distorted(server, tmp_path):
    # GIVEN gpt-image-1's 1024x1536 picture for a 1080x1920 video, and a one-second narration
    from faceless.media.assemble import AssemblyJob, AssemblySegment, assemble
    from faceless.media.probe import probe

    image = openai(server).generate(request(1080, 1920))
    picture = tmp_path / "00.png"
    picture.write_bytes(image.data)
    voice = tmp_path / "00.wav"
    with wave.open(str(voice), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(24_000)
        writer.writeframes(np.zeros(24_000, dtype="<i2").tobytes())

    # WHEN the assembly renders it
    result = assemble(
        AssemblyJob(
            segments=[AssemblySegment(index=0, image_path=picture, voice_path=voice)],
            width=1080, height=1920, title="t", workdir=tmp_path / "render",
        )
    )  # fmt: skip

    # THEN the first frame is 1080x1920 and the disc in it is round (the camera move may crop it)
    from faceless.media.ffmpeg import ffmpeg_exe
    import subprocess

    assert (probe(result.video_path).width, probe(result.video_path).height) == (1080, 1920)
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(result.video_path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    frame = Image.fromarray(np.frombuffer(raw, dtype=np.uint8).reshape(1920, 1080, 3))
    assert disc_fit_aspect(frame) == pytest.approx(1.0, abs=0.02)
    # (the measure sees a stretch: the same frame squashed to 90% of its width)
    assert disc_fit_aspect(frame.resize((972, 1920))) == pytest.approx(0.9, abs=0.02)


# --------------------------------------------------------------------------- wire details


def test_openai_requests_carry_the_key_model_size_and_quality(server):
    before = len(server.calls("openai"))
    openai(server, quality="high").generate(request(1920, 1080))
    openai(server, model="dall-e-3", quality="high").generate(request(1080, 1920))
    gpt, dalle = server.calls("openai")[before:]
    assert gpt.headers["authorization"] == "Bearer sk-test"
    assert gpt.body == {"model": "gpt-image-1", "prompt": request().prompt, "n": 1, "size": "1536x1024", "quality": "high"}
    assert dalle.body["size"] == "1024x1792" and dalle.body["quality"] == "hd" and dalle.body["response_format"] == "b64_json"


def test_gemini_requests_ask_for_an_image_at_the_nearest_aspect_ratio(server):
    before = len(server.calls("gemini"))
    gemini(server).generate(request(1080, 1920))
    gemini(server).generate(request(1920, 1080))
    portrait, landscape = server.calls("gemini")[before:]
    assert portrait.path == "/v1beta/models/gemini-2.5-flash-image:generateContent"
    assert portrait.headers["x-goog-api-key"] == "g-test"
    assert portrait.body["contents"][0]["parts"][0]["text"] == request().prompt
    assert portrait.body["generationConfig"]["responseModalities"] == ["IMAGE"]
    assert portrait.body["generationConfig"]["imageConfig"] == {"aspectRatio": "9:16"}
    assert landscape.body["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9"}


def test_a_jpeg_answer_is_stored_as_png(server):
    server.enqueue("gemini", ImageOf(768, 1344, "JPEG"))
    image = gemini(server).generate(request())
    assert Image.open(io.BytesIO(image.data)).format == "PNG" and (image.width, image.height) == (768, 1344)


@pytest.mark.parametrize(
    ("api", "replies", "error", "match"),
    [
        ("openai", [429, 429, 429], ProviderThrottledError, "rate-limiting"),
        ("openai", [503, 503, 503], TransientProviderError, "503"),
        ("openai", [ErrorReply(400, "Your request was rejected by our safety system.", code="content_policy_violation")], ProviderRejectedError, "refused"),
        ("openai", [ErrorReply(429, "You exceeded your current quota.", code="insufficient_quota")] * 3, ProviderRejectedError, "quota"),
        ("gemini", [429, 429, 429], ProviderThrottledError, "rate-limiting"),
        ("gemini", [500, 500, 500], TransientProviderError, "500"),
        ("gemini", [GeminiBlocked()], ProviderRejectedError, "PROHIBITED_CONTENT"),
        ("gemini", [GeminiTextOnly(finish_reason="IMAGE_SAFETY")], ProviderRejectedError, "IMAGE_SAFETY"),
        ("gemini", [GeminiTextOnly()], ProviderResponseError, "without an image"),
    ],
)
def test_provider_errors_become_our_error_classes_after_the_sdk_retries(server, api, replies, error, match):
    # GIVEN the server answering with errors (the SDKs retry 429/5xx twice themselves)
    server.enqueue(api, *replies)
    generator = openai(server) if api == "openai" else gemini(server)
    before = len(server.calls(api))

    # WHEN a picture is asked for
    with pytest.raises(error, match=match):
        generator.generate(request())

    # THEN each scripted reply was consumed by one HTTP call
    assert len(server.calls(api)) - before == len(replies)


def test_a_wrong_key_is_rejected_for_good(server):
    with pytest.raises(ProviderRejectedError, match="401"):
        OpenAIImageGenerator(api_key="sk-wrong", base_url=server.openai_base_url).generate(request())
    with pytest.raises(ProviderRejectedError, match="400"):
        GeminiImageGenerator(api_key="g-wrong", base_url=server.gemini_base_url).generate(request())


# --------------------------------------------------------------------------- fallback


def test_the_chain_falls_back_to_the_next_provider_then_offline(server):
    chain = FallbackImageGenerator([openai(server), gemini(server), CardImageGenerator()])
    # GIVEN OpenAI refusing the prompt
    server.enqueue("openai", ErrorReply(400, "rejected by our safety system", code="content_policy_violation"))
    # THEN Gemini draws it
    assert chain.generate(request()).provider == "gemini"
    # GIVEN both refusing
    server.enqueue("openai", ErrorReply(400, "rejected", code="content_policy_violation"))
    server.enqueue("gemini", GeminiBlocked())
    # THEN the offline card is drawn, at the output size
    card = chain.generate(request(1080, 1080))
    assert (card.provider, card.width, card.height) == ("offline", 1080, 1080)


def test_bootstrap_chains_the_wanted_provider_first(server, settings):
    services = build_services(
        settings.model_copy(update={"openai_api_key": "sk-test", "openai_base_url": server.openai_base_url,
                                    "gemini_api_key": "g-test", "gemini_base_url": server.gemini_base_url})
    )  # fmt: skip
    assert [g.name for g in services.image_generator("gemini").generators] == ["gemini", "openai", "offline"]
    assert [g.name for g in services.image_generator("openai").generators] == ["openai", "gemini", "offline"]
    assert [g.name for g in services.image_generator("offline").generators] == ["offline"]
    only_offline = build_services(settings)
    assert [g.name for g in only_offline.image_generator("openai").generators] == ["offline"]


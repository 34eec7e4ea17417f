"""One place for logs, traces and metrics (powertools), shared by every function.

Logs: every line of a job carries its video id as the correlation id, so one query finds a whole
video's story. Metrics: CloudWatch EMF records (namespace Faceless): videos requested, succeeded
and failed (by stage), tokens, images, TTS characters, render seconds and cost."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

SERVICE = "faceless"
NAMESPACE = "Faceless"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def correlate(event: dict) -> None:
    """Every log line of a job carries its id, so one query finds a whole video's story."""
    job = event.get("job") if isinstance(event, dict) else None
    job_id = (job or {}).get("job_id") if isinstance(job, dict) else None
    logger.set_correlation_id(job_id or (event.get("job_id") if isinstance(event, dict) else None))


def publish(values: dict[str, tuple[float, MetricUnit]], dimensions: dict[str, str] | None = None) -> None:
    """Print one EMF record now. A fresh metric set per call: handlers run on many threads in the
    embedded runner, and nothing waits for a decorator to flush. Silent when
    POWERTOOLS_METRICS_DISABLED is set (tests, the CLI)."""
    try:
        emf = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
        for name, value in (dimensions or {}).items():
            emf.add_dimension(name=name, value=value)
        for name, (value, unit) in values.items():
            emf.add_metric(name=name, unit=unit, value=value)
        emf.flush_metrics()
    except Exception:  # noqa: BLE001 - a metric must never fail a video
        logger.warning("metrics not published", exc_info=True)


def record_video_requested() -> None:
    publish({"VideosRequested": (1, MetricUnit.Count)})


def record_video_succeeded(
    *, prompt_tokens: int, completion_tokens: int, images: int, images_reused: int, tts_characters: int,
    render_seconds: float, cost_usd: float,
) -> None:
    publish(
        {
            "VideosSucceeded": (1, MetricUnit.Count),
            "PromptTokens": (prompt_tokens, MetricUnit.Count),
            "CompletionTokens": (completion_tokens, MetricUnit.Count),
            "ImagesGenerated": (images, MetricUnit.Count),
            "ImagesReused": (images_reused, MetricUnit.Count),
            "TtsCharacters": (tts_characters, MetricUnit.Count),
            "RenderSeconds": (render_seconds, MetricUnit.Seconds),
            "CostUSD": (cost_usd, MetricUnit.NoUnit),
        }
    )


def record_video_failed(stage: str, error: str) -> None:
    publish({"VideosFailed": (1, MetricUnit.Count)}, {"stage": stage or "unknown"})
    logger.info("video failed", extra={"stage": stage, "error": error})

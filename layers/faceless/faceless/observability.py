"""One place for logs, traces and metrics (powertools), shared by every function."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "faceless"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="Faceless", service=SERVICE)


def correlate(event: dict) -> None:
    """Every log line of a job carries its id, so one query finds a whole video's story."""
    job = event.get("job") if isinstance(event, dict) else None
    job_id = (job or {}).get("job_id") if isinstance(job, dict) else None
    logger.set_correlation_id(job_id or (event.get("job_id") if isinstance(event, dict) else None))

"""Shared fixtures. Every test runs offline: no key, no network, a fresh blob-store folder."""

from __future__ import annotations

import os

import pytest

# Before any powertools import: quiet, no X-Ray, no EMF on stdout.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GEMINI_API_KEY", "FACELESS_LLM_PROVIDER"):
    os.environ.pop(_key, None)


@pytest.fixture
def settings(tmp_path):
    from faceless.settings import Settings

    return Settings(home=tmp_path / "blobs")


@pytest.fixture
def services(settings):
    """Offline services over a temporary folder, installed for every handler in this process."""
    from faceless.bootstrap import build_services, use_services

    built = build_services(settings)
    use_services(built)
    yield built
    use_services(None)

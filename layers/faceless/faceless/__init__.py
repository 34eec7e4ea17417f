"""Faceless: a serverless generator of faceless short videos."""

__version__ = "0.1.0"

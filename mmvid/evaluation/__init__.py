"""Metrics (filled by the tools work)."""

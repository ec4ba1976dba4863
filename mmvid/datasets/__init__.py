"""Datasets, samplers and transforms (filled by the data-pipeline work)."""

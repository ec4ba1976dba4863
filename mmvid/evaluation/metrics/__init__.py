"""Metrics for mmengine's evaluator."""
from .acc_metric import METRIC_NAMES, AccMetric

__all__ = ['AccMetric', 'METRIC_NAMES']

"""Metrics for mmengine's evaluator."""
from .acc_metric import METRIC_NAMES, AccMetric
from .dump_scores import DumpScores

__all__ = ['AccMetric', 'METRIC_NAMES', 'DumpScores']

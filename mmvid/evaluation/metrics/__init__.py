"""Metrics for mmengine's evaluator."""
from .acc_metric import METRIC_NAMES, AccMetric
from .confusion_matrix import ConfusionMatrix
from .dump_predictions import DumpPredictions
from .dump_scores import DumpScores

__all__ = ['AccMetric', 'METRIC_NAMES', 'ConfusionMatrix', 'DumpPredictions',
           'DumpScores']

"""Metric functions on numpy arrays."""
from .accuracy import (average_precision, confusion_counts, confusion_matrix,
                       mean_average_precision, mean_class_accuracy,
                       top_k_accuracy)

__all__ = ['top_k_accuracy', 'mean_class_accuracy', 'confusion_matrix',
           'confusion_counts', 'average_precision', 'mean_average_precision']

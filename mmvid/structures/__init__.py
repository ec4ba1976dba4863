"""Data structures passed between pipeline, model and metrics."""
from .action_data_sample import ActionDataSample, format_label

__all__ = ['ActionDataSample', 'format_label']

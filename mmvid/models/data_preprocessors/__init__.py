"""Data preprocessors (batching and normalisation on the device)."""
from .action_data_preprocessor import ActionDataPreprocessor

__all__ = ['ActionDataPreprocessor']

"""Data preprocessors (batching and normalisation on the device) and the
training-time batch blendings (MixUp, CutMix)."""
from .action_data_preprocessor import ActionDataPreprocessor
from .blending import BaseMiniBatchBlending, CutmixBlending, MixupBlending

__all__ = [
    'ActionDataPreprocessor', 'BaseMiniBatchBlending', 'MixupBlending',
    'CutmixBlending'
]

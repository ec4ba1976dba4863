"""mmvid's runner hooks."""
from .skipped_samples_hook import SkippedSamplesHook

__all__ = ['SkippedSamplesHook']

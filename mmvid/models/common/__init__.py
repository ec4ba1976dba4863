"""Building blocks shared by mmvid models."""
from .non_local import NonLocal3d

__all__ = ['NonLocal3d']

"""Classification heads."""
from .base_head import BaseHead, average_clip
from .i3d_head import I3DHead

__all__ = ['BaseHead', 'I3DHead', 'average_clip']

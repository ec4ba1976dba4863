"""Deprecated: moved to :mod:`mmvid.convert` (this path is removed in the next
release)."""
from mmvid.utils._deprecation import warn_moved
from mmvid.convert import *  # noqa: F401,F403
from mmvid.convert import __all__  # noqa: F401

warn_moved('mmvid.utils.checkpoint.convert', 'mmvid.convert')

"""Deprecated: moved to :mod:`mmvid.checkpoint` (this path is removed in the next
release)."""
from mmvid.utils._deprecation import warn_moved
from mmvid.checkpoint import *  # noqa: F401,F403
from mmvid.checkpoint import __all__  # noqa: F401

warn_moved('mmvid.utils.checkpoint', 'mmvid.checkpoint')

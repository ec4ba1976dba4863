"""Deprecated: moved to :mod:`mmvid.data_preparation` (this path is removed in the next
release)."""
from mmvid.utils._deprecation import warn_moved
from mmvid.data_preparation import *  # noqa: F401,F403
from mmvid.data_preparation import __all__  # noqa: F401

warn_moved('mmvid.datasets.preparation', 'mmvid.data_preparation')

"""Deprecated: moved to :mod:`mmvid.apis.fast_path` (the flags to
:mod:`mmvid.cli.args`, ``to_channels_last`` to :mod:`mmvid.models.utils`);
this path is removed in the next release."""
from mmvid.apis.fast_path import (AMP_DTYPES, FastPath,  # noqa: F401
                                  apply_fast_path, autocast, best_fast_path,
                                  check_amp, describe_fast_path,
                                  fast_choice_reason, make_fast_path,
                                  native_bf16)
from mmvid.cli.args import add_fast_path_args, fast_path_from_args  # noqa
from mmvid.models.utils import to_channels_last  # noqa: F401
from mmvid.utils._deprecation import warn_moved

warn_moved('mmvid.utils.fast_path', 'mmvid.apis.fast_path')

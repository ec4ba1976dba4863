"""Model-level tools that several parts use: conv-BN folding and memory
layouts."""
from .fuse_conv_bn import (CONV_TYPES, count_batchnorms, fold_bn_into_conv,
                           fuse_conv_bn)
from .memory_format import (channels_last_inputs, memory_format_of,
                            to_channels_last)

__all__ = [
    'CONV_TYPES', 'count_batchnorms', 'fold_bn_into_conv', 'fuse_conv_bn',
    'channels_last_inputs', 'memory_format_of', 'to_channels_last'
]

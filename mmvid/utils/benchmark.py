"""Deprecated: moved to :mod:`mmvid.analysis.speed` (machine facts to
:mod:`mmvid.analysis.machine`, conv-BN folding to
:mod:`mmvid.models.utils`); this path is removed in the next release."""
from mmvid.analysis.machine import (cpu_model, cpu_name,  # noqa: F401
                                    peak_rss_mib, reset_peak_rss,
                                    usable_cores)
from mmvid.analysis.speed import (BenchmarkResult,  # noqa: F401
                                  build_test_dataloader, run_benchmark)
from mmvid.models.utils import (CONV_TYPES, count_batchnorms,  # noqa: F401
                                fold_bn_into_conv, fuse_conv_bn,
                                memory_format_of)
from mmvid.utils._deprecation import warn_moved

warn_moved('mmvid.utils.benchmark', 'mmvid.analysis.speed')

"""Command-line flags the tools share: work dir, config overrides, launcher,
and the inference fast-path switches."""
import argparse
from typing import Optional

import torch
from mmengine.config import DictAction

from mmvid.apis.fast_path import AMP_DTYPES, FastPath, make_fast_path

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``."""
    parser.add_argument('--work-dir',
                        help='where logs and checkpoints go (default: the '
                        "config's work_dir, else work_dirs/<config name>)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries: key=value ... '
                        '(e.g. train_dataloader.batch_size=4)')
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none',
                        help='job launcher for distributed runs')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0,
                        help='set by torch.distributed.launch')


def fast_path_from_args(args: argparse.Namespace, device: torch.device,
                        total_views: Optional[int] = None) -> FastPath:
    """:func:`make_fast_path` of the flags :func:`add_fast_path_args`
    adds (absent ones count as not given); ``total_views``: the views the
    run computes, for ``--fast``'s compile choice (None: never)."""
    return make_fast_path(
        device, fast=getattr(args, 'fast', False),
        amp=getattr(args, 'amp', None),
        channels_last=getattr(args, 'channels_last', False),
        fuse_conv_bn=getattr(args, 'fuse_conv_bn', False),
        compile=getattr(args, 'compile', False), total_views=total_views)


def add_fast_path_args(parser: argparse.ArgumentParser) -> None:
    """``--fast``, ``--amp {bf16,fp16}``, ``--channels-last``,
    ``--fuse-conv-bn`` and ``--compile`` on an argparse parser."""
    group = parser.add_argument_group(
        'inference fast path (default: exact fp32)')
    group.add_argument(
        '--fast', action='store_true',
        help='the fastest measured settings for the device: channels_last_3d '
        'and folded BN, plus bf16 where the CPU/GPU has native bf16 (fp16 '
        'on other GPUs); test.py and benchmark.py also compile when the run '
        'has enough views to repay the compile (the log says which)')
    group.add_argument('--amp', choices=tuple(AMP_DTYPES),
                       help='autocast precision')
    group.add_argument('--channels-last', action='store_true',
                       help='channels_last_3d weights and inputs')
    group.add_argument('--fuse-conv-bn', action='store_true',
                       help='fold batch norms into the convolutions')
    group.add_argument('--compile', action='store_true',
                       help='torch.compile the backbone with frozen weights '
                       '(one-off compile on the first call; torch caches it '
                       'for later runs)')


def dump_tool_parser(description: str, doc: str,
                     dumps: str = 'dump') -> argparse.ArgumentParser:
    """The parser of a ``tools/analysis`` tool reading ``tools/test.py
    --dump`` files: the positional ``dumps`` (``'dumps'``: one or more) and
    the ``Examples:`` part of the tool's ``doc`` as the help's epilog."""
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Examples:' + doc.split('Examples:', 1)[1])
    parser.add_argument(dumps, nargs='+' if dumps == 'dumps' else None,
                        help='file(s) written by tools/test.py --dump')
    return parser


def add_topk_arg(parser: argparse.ArgumentParser) -> None:
    """``--topk K...`` (default 1 5): the k of ``top_k_accuracy``."""
    parser.add_argument('--topk', nargs='+', type=int, default=[1, 5],
                        help='the k of top_k_accuracy')

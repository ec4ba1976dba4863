"""The command line shared by ``tools/convert/*_to_mmvid.py``."""
import argparse
from typing import List, Optional

from mmengine.config import DictAction

from mmvid.checkpoint.errors import CheckpointError
from .api import convert_checkpoint
from .report import format_report


def build_parser(prog: Optional[str], description: str,
                 epilog: str = '') -> argparse.ArgumentParser:
    """``SRC CONFIG OUT [--drop-head] [--cfg-options ...]``."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', metavar='SRC', help='the checkpoint to convert')
    parser.add_argument('config', metavar='CONFIG',
                        help='the mmvid config the weights are for')
    parser.add_argument('out', metavar='OUT',
                        help='where to write the mmvid checkpoint (.pth)')
    parser.add_argument(
        '--drop-head', action='store_true',
        help="keep the config's freshly initialised classifier instead of "
        "the checkpoint's (fine-tuning to other classes)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    return parser


def main(fmt: str, description: str, epilog: str = '',
         argv: Optional[List[str]] = None, prog: Optional[str] = None) -> int:
    """Parse ``argv``, convert, print the report.

    Returns:
        0; on a :class:`CheckpointError` or a missing file the one-line
        message goes to stderr and the process exits with status 1 (no
        traceback).
    """
    parser = build_parser(prog, description, epilog)
    args = parser.parse_args(argv)
    try:
        _, report = convert_checkpoint(
            args.src, args.config, out=args.out, fmt=fmt,
            drop_head=args.drop_head, cfg_options=args.cfg_options)
    except (CheckpointError, FileNotFoundError) as err:
        parser.exit(1, f'{parser.prog}: error: {err}\n')
    print(format_report(report))
    return 0

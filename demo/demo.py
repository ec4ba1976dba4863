"""Recognize the action in a video: print the top classes, draw them on
the video (--out-file), follow a long video window by window (--window,
--stride, --out-json, --timeline) or run a camera (--camera 0).

The code is :mod:`mmvid.cli.demo`; ``python demo/demo.py --help`` lists the
flags and examples, docs/demo.md shows every mode.
"""
import sys

from mmvid.cli.demo import main, parse_args

__all__ = ['main', 'parse_args']

if __name__ == '__main__':
    sys.exit(main())

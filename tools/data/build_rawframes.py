"""Extract the RGB frames of a video folder to ``img_00001.jpg ...``.

Resumable: complete frame folders (atomic, with a ``.done`` file) are
skipped; a broken video is reported and the run goes on. Library:
``mmvid.data_preparation.build_rawframes``.
"""
import argparse
import sys

from mmvid.data_preparation import build_rawframes
from mmvid.data_preparation.cli import (add_level_arg, make_parser,
                                             run_batch)

EPILOG = """examples:
  # videos_train/<class>/<clip>.mp4 -> rawframes_train/<class>/<clip>/
  python tools/data/build_rawframes.py data/k400/videos_train \\
      data/k400/rawframes_train --level 2 --ext mp4 --num-worker 8 \\
      --new-short 256
  # fixed size with OpenCV decoding, videos directly in the folder
  python tools/data/build_rawframes.py videos/ frames/ --level 1 \\
      --new-width 340 --new-height 256 --use-opencv
Rerunning the same command resumes (--resume is the default behaviour).
"""


def parse_args(argv=None) -> argparse.Namespace:
    p = make_parser(__doc__, EPILOG)
    p.add_argument('src_dir', help='video folder')
    p.add_argument('out_dir', help='frame folder root')
    p.add_argument('--task', default='rgb', choices=['rgb'],
                   help='only RGB frames (no optical flow)')
    add_level_arg(p)
    p.add_argument('--ext', default='mp4', help='video extension')
    p.add_argument('--num-worker', type=int, default=8)
    p.add_argument('--new-short', type=int, help='short side of the frames')
    p.add_argument('--new-width', type=int)
    p.add_argument('--new-height', type=int)
    p.add_argument('--use-opencv', action='store_true',
                   help='decode with OpenCV instead of decord')
    p.add_argument('--jpeg-quality', type=int, default=95)
    p.add_argument('--resume', action='store_true',
                   help='skip complete frame folders (always done)')
    p.add_argument('--overwrite', action='store_true',
                   help='redo complete frame folders too')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_batch(
        lambda: build_rawframes(
            args.src_dir, args.out_dir, ext=args.ext, level=args.level,
            num_workers=args.num_worker,
            backend='opencv' if args.use_opencv else 'decord',
            new_short=args.new_short, new_width=args.new_width,
            new_height=args.new_height, jpeg_quality=args.jpeg_quality,
            overwrite=args.overwrite),
        (ValueError, FileNotFoundError))


if __name__ == '__main__':
    sys.exit(main())

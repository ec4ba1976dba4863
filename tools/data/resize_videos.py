"""Re-encode a video folder with ffmpeg: short side 256 (even sizes, aspect
kept), libx264 with a short GOP for fast seeking, audio dropped.

Needs the ``ffmpeg`` program (``apt-get install ffmpeg`` or
``conda install -c conda-forge ffmpeg``). Resumable: outputs are written
atomically and existing ones skipped. Library:
``mmvid.data_preparation.resize_videos``.
"""
import argparse
import sys

from mmvid.data_preparation import FFmpegNotFoundError, resize_videos
from mmvid.data_preparation.cli import (add_level_arg, make_parser,
                                             run_batch)

EPILOG = """examples:
  # Kinetics-style folder, short side 256, key frame every 16 frames
  python tools/data/resize_videos.py data/k400/videos_train \\
      data/k400/videos_train_256p_dense --level 2 --num-worker 8
  # a flat folder of .avi files to .mp4, short side 320, GOP 32
  python tools/data/resize_videos.py raw/ out/ --level 1 --ext avi \\
      --short-side 320 --gop 32
"""


def parse_args(argv=None) -> argparse.Namespace:
    p = make_parser(__doc__, EPILOG)
    p.add_argument('src_dir')
    p.add_argument('out_dir')
    add_level_arg(p)
    p.add_argument('--ext', default='mp4', help='input extension')
    p.add_argument('--out-ext', default='mp4', help='output extension')
    p.add_argument('--short-side', '--scale', type=int, default=256)
    p.add_argument('--gop', type=int, default=16, help='key frame interval')
    p.add_argument('--crf', type=int, default=23)
    p.add_argument('--preset', default='veryfast')
    p.add_argument('--keep-audio', action='store_true')
    p.add_argument('--num-worker', type=int, default=8)
    p.add_argument('--ffmpeg', default='ffmpeg', help='ffmpeg executable')
    p.add_argument('--overwrite', action='store_true')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_batch(
        lambda: resize_videos(
            args.src_dir, args.out_dir, ext=args.ext, level=args.level,
            out_ext=args.out_ext, short_side=args.short_side, gop=args.gop,
            crf=args.crf, preset=args.preset, keep_audio=args.keep_audio,
            num_workers=args.num_worker, ffmpeg=args.ffmpeg,
            overwrite=args.overwrite),
        (FFmpegNotFoundError, ValueError, FileNotFoundError))


if __name__ == '__main__':
    sys.exit(main())

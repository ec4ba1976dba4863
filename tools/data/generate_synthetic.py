"""Generate the synthetic action dataset (classes defined by motion only).

Library: ``mmvid.data_preparation.generate_synthetic_dataset``.
"""
import argparse
import sys

from mmvid.data_preparation import generate_synthetic_dataset
from mmvid.data_preparation.cli import fail, make_parser

EPILOG = """examples:
  # the demo set: 8 classes x (24 train + 8 val) clips, 32 frames, 128x96
  python tools/data/generate_synthetic.py data/synthetic
  # a tiny set, rawframes only, 2 worker processes
  python tools/data/generate_synthetic.py data/tiny --num-classes 4 \\
      --train-per-class 2 --val-per-class 1 --num-frames 8 --size 32 24 \\
      --no-videos --num-worker 2
An existing dataset with the same parameters is reused; --force regenerates.
"""


def parse_args(argv=None) -> argparse.Namespace:
    p = make_parser(__doc__, EPILOG)
    p.add_argument('out_dir', nargs='?', default='data/synthetic')
    p.add_argument('--num-classes', type=int, default=8)
    p.add_argument('--train-per-class', type=int, default=48)
    p.add_argument('--val-per-class', type=int, default=16)
    p.add_argument('--num-frames', type=int, default=32)
    p.add_argument('--size', type=int, nargs=2, default=(128, 96),
                   metavar=('WIDTH', 'HEIGHT'))
    p.add_argument('--fps', type=float, default=25)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--codec', default='mp4v', choices=['mp4v', 'MJPG', 'FFV1'])
    p.add_argument('--jpeg-quality', type=int, default=95)
    p.add_argument('--no-videos', action='store_true')
    p.add_argument('--no-rawframes', action='store_true')
    p.add_argument('--num-worker', type=int, default=1)
    p.add_argument('--force', action='store_true',
                   help='regenerate / replace an existing dataset')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        summary = generate_synthetic_dataset(
            args.out_dir, num_classes=args.num_classes,
            videos_per_class_train=args.train_per_class,
            videos_per_class_val=args.val_per_class,
            num_frames=args.num_frames, size=tuple(args.size), fps=args.fps,
            seed=args.seed, write_videos=not args.no_videos,
            write_rawframes=not args.no_rawframes, codec=args.codec,
            jpeg_quality=args.jpeg_quality, force=args.force,
            num_workers=args.num_worker)
    except (ValueError, FileExistsError) as e:
        return fail(e)
    state = 'reused' if summary['reused'] else \
        f'written in {summary["seconds"]:.1f} s'
    print(f'{summary["out_dir"]}: {len(summary["classes"])} classes, '
          f'{summary["num_videos"]["train"]} train + '
          f'{summary["num_videos"]["val"]} val clips of '
          f'{summary["num_frames"]} frames at {summary["size"][0]}x'
          f'{summary["size"][1]} ({state})')
    print('files: ' + ', '.join(sorted(summary['files'].values())))
    return 0


if __name__ == '__main__':
    sys.exit(main())

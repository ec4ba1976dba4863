"""Decode every frame of every video and list the broken ones (missing,
empty, unopenable, truncated, decode errors). Run it once before training:
corrupt videos crash or hang long runs.

Library: ``mmvid.data_preparation.check_videos``.
"""
import argparse
import os.path as osp
import sys

from mmvid.data_preparation import check_videos
from mmvid.data_preparation.cli import add_level_arg, fail, make_parser
from mmvid.data_preparation.tree import list_videos

EPILOG = """examples:
  # every <class>/<clip>.mp4 under a folder, 8 processes
  python tools/data/check_videos.py data/k400/videos_val --num-worker 8
  # the videos of an annotation list (`path label` lines), with OpenCV
  python tools/data/check_videos.py data/k400/val_list_videos.txt \\
      --data-prefix data/k400/videos_val --backend opencv --out broken.txt
Exit status 1 when a video is broken.
"""


def parse_args(argv=None) -> argparse.Namespace:
    p = make_parser(__doc__, EPILOG)
    p.add_argument('src', help='video folder, or annotation list (.txt)')
    p.add_argument('--data-prefix', default='',
                   help='folder the list paths are relative to')
    p.add_argument('--ext', default='mp4', help='video extension (folder)')
    add_level_arg(p, default=None)
    p.add_argument('--backend', default='decord', choices=['decord', 'opencv'])
    p.add_argument('--num-worker', type=int, default=1)
    p.add_argument('--out', help='write the broken videos here, one a line')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if osp.isdir(args.src):
        levels = [args.level] if args.level else [1, 2]
        paths = sorted(osp.join(args.src, rel) for level in levels
                       for rel in list_videos(args.src, args.ext, level))
        where = ' and '.join({1: f'{args.src}/*.{args.ext}',
                              2: f'{args.src}/*/*.{args.ext}'}[level]
                             for level in levels)
    elif osp.isfile(args.src):
        with open(args.src) as f:
            paths = [osp.join(args.data_prefix, line.split()[0])
                     for line in f if line.strip()]
        where = f'the list {args.src}'
    else:
        return fail(f'{args.src} is neither a folder nor a list file')
    if not paths:
        return fail(f'no video to check: nothing in {where} (--ext sets the '
                    'extension, --level the folder depth)')
    broken = check_videos(paths, backend=args.backend,
                          num_workers=args.num_worker)
    for problem in broken:
        print(f'BROKEN {problem}')
    if args.out:
        with open(args.out, 'w') as f:
            f.writelines(f'{p.path}\t{p.kind}\t{p.detail}\n' for p in broken)
    print(f'checked {len(paths)} videos with {args.backend}: '
          f'{len(broken)} broken')
    return 1 if broken else 0


if __name__ == '__main__':
    sys.exit(main())

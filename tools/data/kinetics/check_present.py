"""Count the clips of a Kinetics annotation CSV (or an annotation list)
present in a local video folder: prints "N of M present" and the first
missing clips; --missing-out writes every missing one, one a line. Every
copy of Kinetics lacks some clips, so missing clips are reported, not an
error (unless --strict).
Library: ``mmvid.data_preparation.presence``.
"""
import argparse
import sys

from mmvid.data_preparation.cli import fail, make_parser
from mmvid.data_preparation.presence import (LAYOUTS, check_presence,
                                             presence_report, write_missing)

EPILOG = """examples:
  # the val CSV against mmaction2-style class folders (spaces as _), the
  # crawler's (spaces kept) or flat CVDF folders: --class-dirs any finds all
  python tools/data/kinetics/check_present.py \\
      data/kinetics400/annotations/val.csv data/kinetics400/videos_val \\
      --missing-out data/kinetics400/val_missing.txt
  # an annotation list (`path label` or `frame_dir total_frames label`)
  python tools/data/kinetics/check_present.py \\
      data/kinetics400/kinetics400_val_list_videos.txt \\
      data/kinetics400/videos_val
Exit status 0 (1 with --strict when a clip is missing, or on an error).
"""


def parse_args(argv=None) -> argparse.Namespace:
    p = make_parser(__doc__, EPILOG)
    p.add_argument('annotation', help='Kinetics CSV (.csv) or annotation '
                   'list; list paths are relative to VIDEO_DIR')
    p.add_argument('video_dir', help='the local clips (or frame folders)')
    p.add_argument('--missing-out', help='write the missing clips here')
    p.add_argument('--ext', default='mp4',
                   help='video extension, CSV only (default: mp4)')
    p.add_argument('--class-dirs', default='any', choices=LAYOUTS,
                   help='where a CSV clip lives: class folder with spaces '
                   'as _ (underscore), as is (label), none (flat) or any '
                   'of them (default)')
    p.add_argument('--strict', action='store_true',
                   help='exit status 1 when a clip is missing')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        presence = check_presence(args.annotation, args.video_dir, args.ext,
                                  args.class_dirs)
    except (ValueError, FileNotFoundError) as e:
        return fail(e)
    if args.missing_out:
        write_missing(presence.missing, args.missing_out)
    print('\n'.join(presence_report(presence, args.annotation)))
    if args.missing_out:
        print(f'{len(presence.missing)} missing clips written to '
              f'{args.missing_out}')
    return 1 if args.strict and presence.missing else 0


if __name__ == '__main__':
    sys.exit(main())

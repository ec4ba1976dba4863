"""Write an annotation list (``frame_dir total_frames label`` for rawframes,
``path label`` for videos) and the label map, from a class-per-folder tree
or a Kinetics CSV. Library: ``mmvid.data_preparation.file_list``.
"""
import argparse
import sys

from mmvid.data_preparation import (list_from_kinetics_csv,
                                        list_from_tree, read_label_map,
                                        shuffle_items, split_items,
                                        write_file_list, write_label_map)
from mmvid.data_preparation.cli import fail, make_parser

EPILOG = """examples:
  # root/<class>/<clip>/img_00001.jpg ...; 20% of each class to val
  python tools/data/build_file_list.py data/ucf/rawframes --format rawframes \\
      --out data/ucf/train_list_rawframes.txt --val-ratio 0.2 \\
      --val-out data/ucf/val_list_rawframes.txt \\
      --label-map-out data/ucf/label_map.txt
  # Kinetics val videos in flat folders (CVDF archives), train label order
  python tools/data/build_file_list.py data/k400/videos_val --format videos \\
      --csv data/k400/annotations/val.csv --class-dirs flat \\
      --classes data/k400/label_map.txt --out data/k400/val_list_videos.txt
Kinetics clips are named {youtube_id}_{time_start:06d}_{time_end:06d}.mp4.
"""


def parse_args(argv=None) -> argparse.Namespace:
    p = make_parser(__doc__, EPILOG)
    p.add_argument('root', help='dataset folder; list paths are relative')
    p.add_argument('--format', default='rawframes',
                   choices=['rawframes', 'videos'])
    p.add_argument('--out', required=True, help='the (train) list to write')
    p.add_argument('--csv', help='Kinetics CSV instead of class folders')
    p.add_argument('--class-dirs', default='underscore',
                   choices=['underscore', 'label', 'flat'])
    p.add_argument('--ext', default='mp4', help='video extension')
    p.add_argument('--filename-tmpl', default='img_{:05}.jpg')
    p.add_argument('--classes', help='label map fixing the label order')
    p.add_argument('--label-map-out', help='write the label map here')
    p.add_argument('--shuffle', action='store_true')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--val-ratio', type=float, help='fraction per class to val')
    p.add_argument('--val-out', help='the val list (with --val-ratio)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if (args.val_ratio is None) != (args.val_out is None):
        return fail('give --val-ratio and --val-out together')
    classes = read_label_map(args.classes) if args.classes else None
    try:
        if args.csv:
            result = list_from_kinetics_csv(
                args.csv, args.root, args.format, args.ext, args.class_dirs,
                classes, args.filename_tmpl)
        else:
            result = list_from_tree(args.root, args.format, args.ext,
                                    classes, args.filename_tmpl)
        lists = {args.out: result.items}
        if args.val_ratio is not None:
            lists = dict(zip((args.out, args.val_out),
                             split_items(result.items, args.val_ratio,
                                         args.seed)))
        for path, items in lists.items():
            if args.shuffle:
                items = shuffle_items(items, args.seed)
            write_file_list(items, path, args.format)
            print(f'{path}: {len(items)} {args.format} entries')
    except (ValueError, FileNotFoundError) as e:
        return fail(e)
    if args.label_map_out:
        write_label_map(result.classes, args.label_map_out)
    for path, reason in sorted(result.skipped.items())[:20]:
        print(f'skipped {path}: {reason}')
    print(f'{len(result.classes)} classes; {len(result.skipped)} skipped')
    return 0 if result.items else 1


if __name__ == '__main__':
    sys.exit(main())

"""Draw the confusion matrix of a prediction dump of ``tools/test.py
--dump`` (rows true classes, columns top-1 predicted ones) and write it as
CSV. Class names: ``--label-map``, else those recorded in the dump.

Examples:
    python tools/analysis/confusion_matrix.py results.pkl --out cm.png
    python tools/analysis/confusion_matrix.py results.pkl --out cm.png \\
        --csv cm.csv --label-map data/k400/label_map.txt --normalize
"""
import argparse

from mmvid.analysis.confusion_plot import (class_names, draw_confusion,
                                           dump_confusion, write_csv)
from mmvid.cli.args import dump_tool_parser
from mmvid.cli.tool_config import check_output_file
from mmvid.evaluation.dump_file import load_dump


def parse_args(argv=None) -> argparse.Namespace:
    parser = dump_tool_parser('Confusion matrix of a prediction dump', __doc__)
    parser.add_argument('--out', required=True, help='the image (.png)')
    parser.add_argument('--csv', help='also write the matrix as CSV')
    parser.add_argument('--label-map', help='class names, one a line')
    parser.add_argument('--normalize', action='store_true',
                        help='divide each row by its number of videos')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    for flag in ('out', 'csv'):
        if getattr(args, flag):
            check_output_file(getattr(args, flag), f'--{flag}')
    dump = load_dump(args.dump)
    names = class_names(dump, args.label_map)
    matrix = dump_confusion(dump, args.normalize)
    if args.csv:
        write_csv(matrix, names, args.csv)
    kind = 'normalized ' if args.normalize else ''
    draw_confusion(matrix, names, args.out,
                   f'{kind}confusion matrix ({int(dump_confusion(dump).sum())}'
                   ' videos)')
    print(f'confusion matrix of {len(names)} classes written to {args.out}'
          + (f' and {args.csv}' if args.csv else ''))


if __name__ == '__main__':
    main()

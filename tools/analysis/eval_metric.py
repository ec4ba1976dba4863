"""Re-score a prediction dump of ``tools/test.py --dump`` with the metric
code of the test run: the figures ``tools/test.py`` printed, exactly.

Examples:
    python tools/analysis/eval_metric.py results.pkl \\
        --eval top_k_accuracy mean_class_accuracy
    python tools/analysis/eval_metric.py results.pkl --eval top_k_accuracy \\
        --topk 1 3 5
"""
import argparse

from mmvid.analysis.dump_scoring import score_dump
from mmvid.cli.args import add_topk_arg, dump_tool_parser
from mmvid.cli.test import print_metrics
from mmvid.evaluation.dump_file import load_dump

SINGLE_LABEL = ('top_k_accuracy', 'mean_class_accuracy')


def parse_args(argv=None) -> argparse.Namespace:
    parser = dump_tool_parser('Evaluate a prediction dump offline', __doc__)
    parser.add_argument('--eval', nargs='+', choices=SINGLE_LABEL,
                        default=list(SINGLE_LABEL), help='metrics')
    add_topk_arg(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    print_metrics(score_dump(load_dump(args.dump), args.eval, args.topk))


if __name__ == '__main__':
    main()

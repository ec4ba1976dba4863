"""Ensemble prediction dumps of ``tools/test.py --dump`` (the same videos in
the same order) and report the accuracy of their weighted average.

Examples:
    python tools/analysis/report_accuracy.py rgb.pkl flow.pkl --weights 1 1.5
    python tools/analysis/report_accuracy.py a.pkl b.pkl c.pkl --apply-softmax
"""
import argparse

from mmvid.analysis.dump_scoring import ensemble, score_dump
from mmvid.cli.args import add_topk_arg, dump_tool_parser
from mmvid.cli.test import print_metrics
from mmvid.evaluation.dump_file import load_dump


def parse_args(argv=None) -> argparse.Namespace:
    parser = dump_tool_parser(
        'Accuracy of a weighted ensemble of prediction dumps', __doc__,
        'dumps')
    parser.add_argument('--weights', nargs='+', type=float,
                        help='one weight per dump (default: all 1)')
    parser.add_argument('--apply-softmax', action='store_true',
                        help='softmax each dump\'s scores before averaging')
    add_topk_arg(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    weights = args.weights or [1.0] * len(args.dumps)
    merged = ensemble([load_dump(p) for p in args.dumps], args.dumps,
                      weights, args.apply_softmax)
    print_metrics(score_dump(merged, ('top_k_accuracy',
                                      'mean_class_accuracy'), args.topk))


if __name__ == '__main__':
    main()

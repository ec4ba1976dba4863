"""Plot training curves and compute iteration times from json logs.

The logs are the json scalar logs a training run writes under
``<work_dir>/<timestamp>/vis_data/<timestamp>.json`` (a work dir may be
given instead: its latest run is used). Train keys are plotted per
iteration (``--xaxis epoch``: per-epoch means), val keys per epoch; a key
logged in both modes (``top1_acc``) gets a subplot for each, and
``val/top1_acc`` picks one. Library: ``mmvid.analysis.log_analysis``.

Examples:
    python tools/analysis/analyze_logs.py plot_curve LOG.json \\
        --keys loss top1_acc --out curves.png
    python tools/analysis/analyze_logs.py plot_curve A.json B.json \\
        --keys val/top1_acc --legend run_a run_b --title I3D --out acc.png
    python tools/analysis/analyze_logs.py cal_train_time work_dirs/i3d
"""
import argparse
import sys

from mmvid.analysis.log_analysis import (find_json_log, load_json_log,
                                      plot_curves, train_time_stats)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 1)[1])
    sub = parser.add_subparsers(dest='task', required=True)
    plot = sub.add_parser('plot_curve', help='plot scalars of json logs')
    plot.add_argument('json_logs', nargs='+', help='json logs or work dirs')
    plot.add_argument('--keys', nargs='+', default=['top1_acc'],
                      help='scalars to plot, optionally mode/key '
                      '(default top1_acc)')
    plot.add_argument('--legend', nargs='+',
                      help='one label per log (default: file names)')
    plot.add_argument('--title', help='figure title')
    plot.add_argument('--xaxis', choices=('iter', 'epoch'), default='iter',
                      help='x axis of train keys (default iter)')
    plot.add_argument('--out', default='curves.png',
                      help='image file to write (default curves.png)')
    plot.add_argument('--dpi', type=int, default=100)
    times = sub.add_parser('cal_train_time',
                           help='average iteration time of json logs')
    times.add_argument('json_logs', nargs='+', help='json logs or work dirs')
    times.add_argument('--include-outliers', action='store_true',
                       help="keep each epoch's first logged value")
    return parser.parse_args(argv)


def cal_train_time(args: argparse.Namespace) -> None:
    for path in args.json_logs:
        log_file = find_json_log(path)
        stats = train_time_stats(load_json_log(log_file),
                                 args.include_outliers)
        print(f'-----Analyze train time of {log_file}-----')
        if stats['slowest'][0] is not None:
            print(f'slowest epoch {stats["slowest"][0]}, average time is '
                  f'{stats["slowest"][1]:.4f} s/iter')
            print(f'fastest epoch {stats["fastest"][0]}, average time is '
                  f'{stats["fastest"][1]:.4f} s/iter')
            print(f'time std over epochs is {stats["std_over_epochs"]:.4f}')
        print(f'average iter time: {stats["avg_iter_time"]:.4f} s/iter '
              f'({stats["num_values"]} logged values)')
        if stats['avg_data_time'] is not None:
            print(f'average data time: {stats["avg_data_time"]:.4f} s/iter')


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.task == 'plot_curve':
            series = plot_curves(args.json_logs, args.keys, args.out,
                                 legend=args.legend, title=args.title,
                                 xaxis=args.xaxis, dpi=args.dpi)
            count = sum(len(s) for s in series)
            print(f'{count} curve(s) of {len(args.json_logs)} log(s) '
                  f'written to {args.out}')
        else:
            cal_train_time(args)
    except (ValueError, KeyError, FileNotFoundError) as error:
        message = error.args[0] if isinstance(error, KeyError) else error
        print(f'error: {message}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

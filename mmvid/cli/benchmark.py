"""Inference speed and memory of a config's model on its test pipeline.

Reports model-only video/s (the forward over all of a video's views and
their averaging, data loading excluded: mmaction2 0.x's "inference_time
(video/s)"), clip/s (views per second), end-to-end video/s (data loading
included, overlapped by the loader workers), the data loader's video/s
alone (decode + crops) with which side is the bottleneck, and peak memory,
with the device, dtype, memory format, batch and views per video. Weights
are random unless --checkpoint is given.
Library: ``mmvid.analysis.speed.run_benchmark``.

Examples:
    python tools/analysis/benchmark.py \\
        configs/recognition/i3d/i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py
    python tools/analysis/benchmark.py CONFIG --fast   # best for the device
    python tools/analysis/benchmark.py CONFIG --fast --views 30 \\
        --video-dir my_videos/          # I3D's 10x3 protocol on your videos
    python tools/analysis/benchmark.py CONFIG --device cuda --amp bf16 \\
        --channels-last --num-videos 200 --warmup 5
    python tools/analysis/benchmark.py CONFIG --fuse-conv-bn --json out.json
"""
import argparse
import json
import sys

from mmengine.config import DictAction

from mmvid.analysis.speed import run_benchmark
from mmvid.cli.args import add_fast_path_args


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('config', help='config file')
    parser.add_argument('--checkpoint', help='weights (default: random)')
    parser.add_argument('--num-videos', type=int, default=20,
                        help='videos timed after the warmup (default 20)')
    parser.add_argument('--warmup', type=int, default=2,
                        help='batches run before timing (default 2)')
    parser.add_argument('--device', default='cpu',
                        help='cpu or cuda[:N] (default cpu)')
    parser.add_argument('--batch-size', type=int, default=1,
                        help='videos per batch (default 1, as mmaction2 0.x)')
    parser.add_argument('--num-workers', type=int,
                        help="loader workers (default: the config's)")
    parser.add_argument('--views', type=int,
                        help='views per video, clips x crops: 30 = 10 clips '
                        'x ThreeCrop (the I3D test protocol), 10 = 10 clips '
                        "x CenterCrop, 1 = one centre clip (default: the "
                        "config's test pipeline)")
    parser.add_argument('--video-dir',
                        help="test on the videos of this folder instead of "
                        "the config's test set (e.g. your own videos)")
    add_fast_path_args(parser)
    parser.add_argument('--log-interval', type=int, default=10,
                        help='print the running speed every N timed '
                        'batches (0: never; default 10)')
    parser.add_argument('--json', help='also write the results to this '
                        'json file (scores left out)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = run_benchmark(
            args.config, checkpoint=args.checkpoint,
            num_videos=args.num_videos, warmup=args.warmup,
            device=args.device, fuse=args.fuse_conv_bn, amp=args.amp,
            channels_last=args.channels_last, compile=args.compile,
            fast=args.fast,
            batch_size=args.batch_size, num_workers=args.num_workers,
            cfg_options=args.cfg_options, log_interval=args.log_interval,
            views=args.views, video_dir=args.video_dir)
    except (ValueError, RuntimeError, FileNotFoundError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(result.format())
    if args.json:
        out = result.as_dict()
        del out['scores']
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=2)
        print(f'results written to {args.json}')
    return 0


def run(argv=None) -> None:
    """Console entry point ``mmvid-benchmark`` (and
    ``tools/analysis/benchmark.py``)."""
    sys.exit(main(argv))

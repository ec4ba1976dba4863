"""Recognize the action in one video: print the top classes and scores.

The video goes through the config's test pipeline (all of its views, as in
``tools/test.py``); a folder of extracted frames (img_00001.jpg, ...) works
too. Library: ``mmvid.apis.inference_recognizer``.

Examples:
    CONFIG=configs/recognition/i3d/\
i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py
    python demo/demo.py data/synthetic/videos/val/move_left/0000.mp4 \\
        $CONFIG work_dirs/demo/epoch_12.pth data/synthetic/label_map.txt
    python demo/demo.py VIDEO CONFIG CKPT LABEL_MAP --top-k 3 --device cuda
    python demo/demo.py VIDEO CONFIG CKPT LABEL_MAP --fast
"""
import argparse
import sys

import torch
from mmengine.config import DictAction

from mmvid.apis import inference_recognizer, init_recognizer, top_k_classes
from mmvid.datasets.annotation import load_label_map
from mmvid.apis.fast_path import describe_fast_path
from mmvid.cli.args import add_fast_path_args, fast_path_from_args


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('video', help='video file or folder of frames')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('label_map', help='class names, one a line')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    parser.add_argument('--top-k', type=int, default=5,
                        help='classes to print (default 5)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    add_fast_path_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.top_k < 1:
        print('error: --top-k must be >= 1', file=sys.stderr)
        return 1
    try:
        names = load_label_map(args.label_map)
        device = torch.device(args.device)
        fast = fast_path_from_args(args, device)
        model = init_recognizer(args.config, args.checkpoint,
                                device=args.device,
                                cfg_options=args.cfg_options, fast=fast)
        if not fast.is_default:
            print(describe_fast_path(fast, device, args.fast))
        result = inference_recognizer(model, args.video)
        best = top_k_classes(result, args.top_k, names)
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'top-{len(best)} classes of {args.video}:')
    for rank, (_, name, score) in enumerate(best, start=1):
        print(f'{rank}. {name}: {score:.6f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

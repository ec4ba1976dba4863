"""Multiply-accumulates (the zoos' "FLOPs") and parameters of a config's model.

Examples:
    python tools/analysis/get_flops.py configs/_base_/models/i3d_r50.py
    python tools/analysis/get_flops.py CONFIG --shape 1 3 8 224 224
"""
import argparse

from mmengine.config import DictAction

from mmvid.apis import init_recognizer
from mmvid.analysis.complexity import model_complexity


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs='+',
                        default=[1, 3, 32, 256, 256],
                        help='input N C T H W (default 1 3 32 256 256, the '
                        'test-time single view the zoos count)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    model = init_recognizer(args.config, cfg_options=args.cfg_options)
    macs, params = model_complexity(model, args.shape)
    print(f'input shape: {tuple(args.shape)} (N, C, T, H, W)')
    print(f'MACs: {macs / 1e9:.2f} G  (multiply-adds; the model zoos call '
          f'these FLOPs; real FLOPs are ~2x)')
    print(f'parameters: {params / 1e6:.2f} M ({params:,})')


if __name__ == '__main__':
    main()

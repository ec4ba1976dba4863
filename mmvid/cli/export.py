"""Export a recognizer to ONNX, OpenVINO, TorchScript or a torch.export
program, then check the file against eager on a random clip.

What is exported is ``test_step`` up to the scores of each view: the data
preprocessor's normalisation + backbone + head, taking pixels
[N, C, T, H, W] (0-255, the pipeline's FormatShape NCTHW; float32, or
uint8 with --input-dtype uint8) and giving class scores [N, num_classes]
before view averaging. The check runs the file with its backend (ONNX
Runtime, OpenVINO in fp32, torch) and eager on one random clip and needs a
cosine similarity >= 0.9999 and the same top-1 class: the tool exits 1
when it does not hold, 2 on a usage error. The runtimes are optional:
pip install 'mmvid[deploy]'.

Examples:
    python tools/deployment/export.py CONFIG CKPT --format onnx
    python tools/deployment/export.py CONFIG CKPT --format openvino --out i3d.xml
    python tools/deployment/export.py CONFIG CKPT --format torchscript \\
        --shape 1 3 32 224 224 --dynamic none
    python tools/deployment/export.py CONFIG CKPT --format exported-program \\
        --dynamic all --force
    python tools/test.py CONFIG i3d.onnx --backend onnxruntime --eval top_k_accuracy
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

from mmvid.apis import init_recognizer, load_config
from mmvid.deployment import (DYNAMIC, FORMAT_BACKEND, FORMATS, ScoresModel,
                              check_export, default_clip_shape, export_model,
                              load_exported, output_files)
from mmvid.deployment.scores_model import INPUT_DTYPES
from mmvid.utils import register_all_modules

USAGE_ERRORS = (FileExistsError, FileNotFoundError, ImportError, KeyError,
                ValueError)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--format', choices=tuple(FORMATS), default='onnx',
                        help='what to write (default onnx)')
    parser.add_argument('--out', help='the file to write (default: the '
                        'checkpoint name with .onnx / .xml (+ .bin) / .pt / '
                        '.pt2)')
    parser.add_argument('--shape', nargs=5, type=int,
                        metavar=('N', 'C', 'T', 'H', 'W'),
                        help="the clip shape (default: 1 3 clip_len crop "
                        "crop from the config's test pipeline)")
    parser.add_argument('--dynamic', choices=DYNAMIC, default='batch',
                        help='axes of any size: none, batch (default) or '
                        'all (N, T, H, W)')
    parser.add_argument('--input-dtype', choices=tuple(INPUT_DTYPES),
                        default='float32', help='pixel type the exported '
                        'model takes (default float32)')
    parser.add_argument('--force', action='store_true',
                        help='replace existing output files')
    parser.add_argument('--non-strict', action='store_true',
                        help='allow missing or unexpected checkpoint keys')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries: key=value ...')
    return parser.parse_args(argv)


def default_output(checkpoint: str, fmt: str) -> str:
    """``work/epoch_12.pth`` -> ``work/epoch_12.onnx`` (``.xml``, ``.pt``,
    ``.pt2``)."""
    return osp.splitext(checkpoint)[0] + FORMATS[fmt][0]


def export(args: argparse.Namespace) -> int:
    """Export, check, print; the exit code (0, or 1 when the check
    fails)."""
    register_all_modules()
    cfg = load_config(args.config, args.cfg_options)
    shape = tuple(args.shape) if args.shape else default_clip_shape(cfg)
    out = args.out or default_output(args.checkpoint, args.format)
    existing = [f for f in output_files(out, args.format) if osp.exists(f)]
    if existing and not args.force:  # before the slow part
        raise FileExistsError(f'{existing[0]} exists; pass --force to '
                              'replace it')
    cfg.model.memory_format = 'contiguous'  # NCDHW: what the runtimes take
    model = init_recognizer(cfg, args.checkpoint,
                            strict=not args.non_strict)
    scores = ScoresModel(model, args.input_dtype).eval()
    files = export_model(scores, shape, out, args.format, args.dynamic,
                         force=args.force)
    print(f'exported {args.config} ({args.format}, clip {list(shape)} '
          f'{args.input_dtype}, dynamic: {args.dynamic}) to '
          f'{" + ".join(files)}')
    backend = FORMAT_BACKEND[args.format]
    result = check_export(scores, load_exported(out, backend), shape,
                          args.input_dtype)
    print(f'{backend} against eager on a random clip {list(shape)}: '
          f'{result.describe()}')
    return 0 if result.passed else 1


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return export(args)
    except USAGE_ERRORS as err:
        print(f'error: {err}', file=sys.stderr)
        return 2


def run(argv=None) -> None:
    """Console entry point ``mmvid export`` (and
    ``tools/deployment/export.py``)."""
    sys.exit(main(argv))

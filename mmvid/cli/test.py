"""Test a checkpoint, with mmaction2 0.x's flags.

Examples:
    python tools/test.py CONFIG CKPT --eval top_k_accuracy mean_class_accuracy --out result.json
    python tools/test.py CONFIG CKPT --eval mean_average_precision       # multi-label
    python tools/test.py CONFIG CKPT --out scores.pkl --average-clips score
    python tools/test.py CONFIG CKPT --eval top_k_accuracy --dump results.pkl
    python tools/test.py CONFIG CKPT --dump results.pkl --dump-features  # + pooled features
    python tools/test.py CONFIG CKPT --eval top_k_accuracy --fast   # fastest measured settings
    python tools/test.py CONFIG CKPT --eval top_k_accuracy --fast --compile
    python tools/test.py CONFIG i3d.onnx --backend onnxruntime --eval top_k_accuracy
    python tools/test.py CONFIG i3d.xml --backend openvino --out scores.json
    bash tools/dist_test.sh CONFIG CKPT 8 --eval top_k_accuracy
"""
import argparse

import numpy as np

from mmengine.dist import get_world_size, is_main_process
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmvid.apis import turn_off_pretrained
from mmvid.cli.args import (add_common_args, add_fast_path_args,
                            fast_path_from_args)
from mmvid.cli.distributed import init_cpu_dist, run_tool
from mmvid.cli.tool_config import (check_output_file, load_tool_config,
                                   set_average_clips)
from mmvid.deployment.backends import BACKENDS
from mmvid.deployment.recognizer import exported_model_cfg
from mmvid.evaluation import METRIC_NAMES
from mmvid.utils import register_all_modules
from mmvid.checkpoint import load_checkpoint
from mmvid.apis.fast_path import (apply_fast_path, count_run_views,
                                  describe_fast_path)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test a recognizer checkpoint',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file, or with '
                        '--backend the exported model file')
    parser.add_argument('--eval', nargs='+', choices=METRIC_NAMES,
                        help="metrics (default: the config's test_evaluator)")
    parser.add_argument('--out', help='write one score list per video, in '
                        'dataset order (.json, .pkl or .yaml)')
    parser.add_argument('--dump', help='write video ids, scores, labels and '
                        'class names for tools/analysis/eval_metric.py, '
                        'report_accuracy.py and confusion_matrix.py (an '
                        '.npz archive whatever the name)')
    parser.add_argument('--dump-features', action='store_true',
                        help="also store each video's backbone features "
                        '(pooled, averaged over its views) in the --dump '
                        "file, under 'features'")
    parser.add_argument('--average-clips', choices=('prob', 'score', 'none'),
                        help='how the views of a video are averaged')
    parser.add_argument('--non-strict', action='store_true',
                        help='allow missing or unexpected checkpoint keys')
    parser.add_argument('--backend', choices=BACKENDS,
                        help='test an exported model (tools/deployment/'
                        'export.py) with this runtime in place of the torch '
                        'model: same pipeline, views, averaging and metrics')
    add_fast_path_args(parser)
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.backend:
        given = [flag for flag, on in (
            ('--non-strict', args.non_strict), ('--fast', args.fast),
            ('--amp', args.amp), ('--channels-last', args.channels_last),
            ('--fuse-conv-bn', args.fuse_conv_bn),
            ('--compile', args.compile),
            ('--dump-features', args.dump_features)) if on]
        if given:
            parser.error(f'{", ".join(given)}: torch-model options; they do '
                         'not apply to an exported model (--backend; it '
                         'gives scores only, no features)')
        if args.launcher != 'none':  # DDP wraps torch parameters
            parser.error('--backend runs in one process: drop --launcher '
                         f'{args.launcher}')
    return args


def build_evaluator(cfg, args: argparse.Namespace) -> None:
    """``--eval``, ``--out`` and ``--dump`` replace the config's test
    evaluator."""
    for flag in ('eval', 'dump'):
        if args.average_clips == 'none' and getattr(args, flag):
            raise ValueError(f'--{flag} needs one score per video: use '
                             '--average-clips prob or score (or only --out)')
    if args.dump_features and not args.dump:
        raise ValueError('--dump-features stores features in the --dump '
                         'file: pass --dump FILE too')
    metrics = []
    if args.eval:
        metrics.append(dict(type='AccMetric', metric_list=args.eval))
    elif not args.out and not args.dump:
        metrics.extend(cfg.test_evaluator if isinstance(
            cfg.test_evaluator, list) else [cfg.test_evaluator])
    if args.out:
        metrics.append(dict(type='DumpScores', out_file=args.out))
    if args.dump:
        metrics.append(dict(type='DumpPredictions', out_file=args.dump,
                            config=args.config,
                            with_features=args.dump_features))
    if args.dump_features:  # the model stores them beside the scores
        cfg.model.test_cfg = dict(cfg.model.get('test_cfg') or {},
                                  with_features=True)
    cfg.test_evaluator = metrics


def main(argv=None) -> None:
    args = parse_args(argv)
    for flag in ('out', 'dump'):  # before the run, not after it
        if getattr(args, flag):
            check_output_file(getattr(args, flag), f'--{flag}')
    register_all_modules()
    cfg = load_tool_config(args.config, args)
    turn_off_pretrained(cfg.model)
    set_average_clips(cfg, args.average_clips)
    build_evaluator(cfg, args)
    cfg.load_from = None  # loaded below, strictly
    if args.backend:  # the exported file replaces the torch model
        cfg.model = exported_model_cfg(cfg.model, args.checkpoint,
                                       args.backend)
    init_cpu_dist(cfg)  # no-op with CUDA or without a launcher
    runner = Runner.from_cfg(cfg)
    if args.backend:
        report(runner.test(), args, len(runner.test_dataloader.dataset))
        return
    model = runner.model.module if is_model_wrapper(runner.model) else \
        runner.model
    load_checkpoint(model, args.checkpoint, strict=not args.non_strict)
    device = next(model.parameters()).device
    views = None
    if args.fast and not args.compile:  # --fast compiles long runs
        views = count_run_views(runner.test_dataloader.dataset) // \
            get_world_size()
    fast = fast_path_from_args(args, device, views)
    if not fast.is_default:
        runner.logger.info(describe_fast_path(fast, device, args.fast))
        apply_fast_path(model, fast, log=runner.logger.info)
    report(runner.test(), args, len(runner.test_dataloader.dataset))


def report(metrics: dict, args: argparse.Namespace, num_videos: int) -> None:
    """Print the metrics and the files written (on the main rank)."""
    if not is_main_process():  # every rank gets the metrics; print once
        return
    print_metrics(metrics)
    for path in (args.out, args.dump):
        if path:
            print(f'scores of {num_videos} videos written to {path}')


def print_metrics(metrics: dict) -> None:
    """One ``name: value`` line each (4 decimals); an array (a confusion
    matrix) on the lines after its name."""
    for name, value in metrics.items():
        if np.ndim(value):
            print(f'{name}:\n{np.asarray(value)}')
        else:
            print(f'{name}: {value:.4f}')


def run(argv=None) -> None:
    """Console entry point ``mmvid-test`` (and ``tools/test.py``)."""
    run_tool(lambda: main(argv))

"""Train a recognizer with mmengine's Runner, with mmaction2 0.x's flags.

Examples:
    python tools/train.py CONFIG --validate --seed 0 --deterministic
    python tools/train.py CONFIG --resume            # latest checkpoint
    python tools/train.py CONFIG --resume work_dirs/x/epoch_5.pth
    bash tools/dist_train.sh CONFIG 8 --validate     # 8 GPUs
"""
import argparse
import logging
import os
import os.path as osp

from mmengine.logging import print_log
from mmengine.runner import Runner

from mmvid.checkpoint.latest import find_resumable
from mmvid.cli.args import add_common_args
from mmvid.cli.distributed import init_cpu_dist, run_tool
from mmvid.cli.tool_config import load_tool_config, set_amp_optim_wrapper
from mmvid.registry import METRICS
from mmvid.utils import register_all_modules


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train a recognizer',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('config', help='config file')
    parser.add_argument('--validate', action='store_true',
                        help='evaluate on the val set during training '
                        '(off unless given, as in mmaction2 0.x)')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--diff-seed', action='store_true',
                        help='a different seed on each rank (seed + rank)')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic algorithms (cuDNN included)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        metavar='CKPT',
                        help="resume from CKPT, or with no value (or 'auto') "
                        'from the latest checkpoint in the work dir')
    parser.add_argument('--load-from', help='initial weights (no resuming)')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: bf16 autocast on CPUs and GPUs '
                        'with native bf16 (no loss scaling), else fp16 with '
                        'dynamic loss scaling on GPUs; refused on CPUs '
                        'without native bf16, where it would be slower')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by total batch / base batch size')
    parser.add_argument('--test-last', action='store_true',
                        help='test the last checkpoint after training')
    parser.add_argument('--test-best', action='store_true',
                        help='test the best checkpoint after training '
                        '(needs --validate)')
    add_common_args(parser)
    return parser.parse_args(argv)


def restart_count() -> int:
    """How often torchrun has restarted this worker group (elastic
    ``--max-restarts``; 0 for the first run and outside torchrun)."""
    return int(os.environ.get('TORCHELASTIC_RESTART_COUNT') or 0)


def warn(message: str) -> None:
    print_log(message, logger='current', level=logging.WARNING)


def merge_train_args(cfg, args: argparse.Namespace) -> None:
    """Apply the training flags to the config.

    ``--resume`` without a path resumes the newest complete checkpoint of
    the work dir (passing over, with a warning, one a crash cut short);
    with none it says so in one line and starts from the beginning. A
    worker that torchrun restarted (elastic ``--max-restarts``) resumes the
    same way.
    """
    if not args.validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        if args.test_best:
            raise ValueError('--test-best needs --validate (no best '
                             'checkpoint is kept without validation)')
    if args.seed is not None or args.deterministic:
        cfg.randomness = dict(seed=args.seed,
                              deterministic=args.deterministic,
                              diff_rank_seed=args.diff_seed)
    restarts = restart_count()
    if args.resume == 'auto' or (restarts and args.resume is None):
        path = find_resumable(cfg.work_dir, warn)
        if path is not None:
            cfg.resume, cfg.load_from = True, path
        else:
            why = f'restart {restarts}' if restarts else '--resume'
            warn(f'{why}: no checkpoint to resume in {cfg.work_dir} '
                 '(last_checkpoint, epoch_*.pth, iter_*.pth): starting from '
                 'the beginning')
            if args.load_from is not None:
                cfg.load_from = args.load_from
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume: no such checkpoint '
                                    f'{args.resume}')
        cfg.resume, cfg.load_from = True, args.resume
    elif args.load_from is not None:
        cfg.load_from = args.load_from
    if args.amp:
        set_amp_optim_wrapper(cfg)
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True


def test_after_training(runner: Runner, which: str) -> None:
    """Test the last or best weights; predictions to {which}_pred.pkl."""
    if which == 'best':
        best = runner.message_hub.get_info('best_ckpt')
        if best is None:
            raise RuntimeError('--test-best: no best checkpoint was saved')
        runner.load_checkpoint(best)
    # this run's dump only: --test-last then --test-best must not make the
    # best test overwrite last_pred.pkl
    metrics_list = runner.test_evaluator.metrics
    metrics_list.append(METRICS.build(dict(
        type='DumpScores',
        out_file=osp.join(runner.work_dir, f'{which}_pred.pkl'))))
    try:
        metrics = runner.test()
    finally:
        metrics_list.pop()
    runner.logger.info(f'{which} checkpoint test: {metrics}')


def main(argv=None) -> None:
    args = parse_args(argv)
    register_all_modules()
    cfg = load_tool_config(args.config, args)
    merge_train_args(cfg, args)
    init_cpu_dist(cfg)  # no-op with CUDA or without a launcher
    runner = Runner.from_cfg(cfg)
    runner.train()
    if args.test_last:
        test_after_training(runner, 'last')
    if args.test_best:
        test_after_training(runner, 'best')


def run(argv=None) -> None:
    """Console entry point ``mmvid-train`` (and ``tools/train.py``)."""
    run_tool(lambda: main(argv))

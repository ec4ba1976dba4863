"""Extract backbone features of a list of videos: one ``.npy`` per video
(pooled over time and space: ``[num_views, C]``, or ``[C]`` with
``--average``) and ``OUT_DIR/manifest.json``. A rerun skips the videos
already done. Library: ``mmvid.apis.features.extract_features``.

Examples:
    python tools/misc/extract_features.py CONFIG CKPT videos.txt feats/ \\
        --video-root data/kinetics400/videos_val
    python tools/misc/extract_features.py CONFIG CKPT videos.txt feats/ \\
        --views 30 --average          # I3D's 10 clips x 3 crops, averaged
    python tools/misc/extract_features.py CONFIG CKPT videos.txt feats/ \\
        --skip-errors                 # unreadable videos: 'failed' in the manifest
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import DictAction

from mmvid.analysis.test_protocol import set_test_views
from mmvid.apis.feature_files import MANIFEST
from mmvid.apis.features import extract_features
from mmvid.apis.inference import (config_test_pipeline, init_recognizer,
                                  load_config, pipeline_for_input)
from mmvid.checkpoint import CheckpointError
from mmvid.datasets.errors import BadSampleError
from mmvid.utils import register_all_modules


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('video_list', help="one video per line: 'path' or "
                        "'path label' (the datasets' annotation format)")
    parser.add_argument('out_dir', help='output folder: one .npy per video '
                        'and manifest.json')
    parser.add_argument('--video-root', default='',
                        help="folder joined before each listed path (a "
                        "dataset's data_prefix)")
    parser.add_argument('--views', type=int,
                        help='views per video, clips x crops: 30 = 10 clips '
                        'x ThreeCrop, 10 = 10 clips x CenterCrop, 1 = one '
                        "centre clip (default: the config's test pipeline)")
    parser.add_argument('--average', action='store_true',
                        help='one vector [C] per video, averaged over its '
                        'views (default: [num_views, C])')
    parser.add_argument('--skip-errors', action='store_true',
                        help='record an unreadable video as failed in the '
                        'manifest and go on (default: stop with an error)')
    parser.add_argument('--num-workers', type=int, default=2,
                        help='data loader worker processes (default 2)')
    parser.add_argument('--device',
                        help='cpu or cuda[:N] (default: cuda if available)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    register_all_modules()
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        cfg = load_config(args.config, args.cfg_options)
        if args.views is not None:
            set_test_views(cfg, args.views)
        pipeline = pipeline_for_input(config_test_pipeline(cfg), 'video')
        cfg.model.test_cfg = dict(cfg.model.get('test_cfg') or {},
                                  feature_extraction=True)
        model = init_recognizer(cfg, args.checkpoint, device=device)
        manifest = extract_features(
            model, pipeline, args.video_list, args.out_dir,
            video_root=args.video_root, average=args.average,
            skip_errors=args.skip_errors, num_workers=args.num_workers,
            settings=dict(config=osp.abspath(args.config),
                          checkpoint=osp.abspath(args.checkpoint),
                          views=args.views))
    except (ValueError, KeyError, FileNotFoundError, BadSampleError,
            CheckpointError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'{len(manifest["videos"])} videos: {manifest["extracted"]} '
          f'extracted, {manifest["reused"]} already done, '
          f'{manifest["failed"]} failed; manifest: '
          f"{osp.join(args.out_dir, MANIFEST)}")
    return 0


def run(argv=None) -> None:
    """``tools/misc/extract_features.py``."""
    sys.exit(main(argv))

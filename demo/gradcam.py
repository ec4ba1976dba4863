"""Show where a recognizer looks: Grad-CAM over the frames of one clip.

The video goes through the config's test pipeline; the first view (one
clip, one crop) is explained at the target layer (default: the last block
of the backbone, e.g. backbone.layer4.1 for the demo R18, backbone.layer4.2
for R50) for the target class (default: the clip's top-1 class), and the
frames with the map blended over them are written as a GIF or an MP4.
Library: ``mmvid.apis.gradcam``, ``mmvid.visualization.cam_overlay``.

Examples:
    CONFIG=configs/recognition/i3d/\
i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py
    python demo/gradcam.py data/synthetic/videos/val/move_left/0000.mp4 \\
        $CONFIG work_dirs/demo/epoch_12.pth \\
        --label-map data/synthetic/label_map.txt --out-file cam.gif
    python demo/gradcam.py VIDEO CONFIG CKPT --target-class 3 \\
        --target-layer backbone.layer3.1 --out-file cam.mp4
"""
import argparse
import sys

import torch
from mmengine.config import DictAction

from mmvid.apis import init_recognizer
from mmvid.visualization.cam_overlay import (VIDEO_SUFFIXES, overlay_cam,
                                             write_video)
from mmvid.apis.gradcam import gradcam_video
from mmvid.datasets.annotation import load_label_map


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('video', help='video file or folder of frames')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-file', required=True,
                        help=f'output video, one of {VIDEO_SUFFIXES}')
    parser.add_argument('--label-map',
                        help='class names, one a line (to name classes)')
    parser.add_argument('--target-layer',
                        help='module name (default: the last backbone block)')
    parser.add_argument('--target-class',
                        help='class index or name (default: the top-1 class)')
    parser.add_argument('--view', type=int, default=0,
                        help='which test view to explain (default 0)')
    parser.add_argument('--alpha', type=float, default=0.5,
                        help='weight of the map over the frames (default 0.5)')
    parser.add_argument('--fps', type=float, default=8.0,
                        help='frames per second of the output (default 8)')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        names = load_label_map(args.label_map) if args.label_map else None
        device = torch.device(args.device)
        model = init_recognizer(args.config, args.checkpoint, device=device,
                                cfg_options=args.cfg_options)
        result = gradcam_video(model, args.video, args.target_layer,
                               args.target_class, names, args.view)
        frames = overlay_cam(result.frames, result.cam, args.alpha)
        write_video(args.out_file, frames, args.fps)
    except (ValueError, KeyError, FileNotFoundError, RuntimeError,
            TypeError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    index = result.target_class
    label = f'{index} ({names[index]})' if names else str(index)
    print(f'Grad-CAM of class {label}, score {result.scores[index]:.6f}, '
          f'at {result.target_layer}: {len(frames)} frames of '
          f'{frames.shape[2]}x{frames.shape[1]} written to {args.out_file}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Recognize the action in a video: print the top classes and scores, draw
them on the video, follow a long video window by window, or run a camera.

The video goes through the config's test pipeline (all of its views, as in
``tools/test.py``); a folder of extracted frames (img_00001.jpg, ...) works
too. With --window each window of N frames goes through the same pipeline
as in-memory frames. Library: ``mmvid.apis.inference_recognizer`` and
``mmvid.visualization``.

Examples:
    CONFIG=configs/recognition/i3d/\
i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py
    python demo/demo.py data/synthetic/videos/val/move_left/0000.mp4 \\
        $CONFIG work_dirs/demo/epoch_12.pth data/synthetic/label_map.txt
    python demo/demo.py VIDEO CONFIG CKPT LABEL_MAP --top-k 3 --device cuda
    python demo/demo.py VIDEO CONFIG CKPT LABEL_MAP --fast
    python demo/demo.py VIDEO CONFIG CKPT LABEL_MAP --out-file labelled.mp4
    python demo/demo.py VIDEO CONFIG CKPT LABEL_MAP --window 32 --stride 16 \\
        --out-json segments.json --timeline timeline.png --out-file out.mp4
    python demo/demo.py --camera 0 CONFIG CKPT LABEL_MAP --stride 8
    python demo/demo.py --camera 0 CONFIG CKPT LABEL_MAP --no-show \\
        --max-frames 300 --out-file camera.mp4
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional

import torch
from mmengine.config import DictAction

from mmvid.apis import inference_recognizer, init_recognizer, top_k_classes
from mmvid.apis.fast_path import describe_fast_path
from mmvid.apis.inference import config_test_pipeline, transform_type_name
from mmvid.cli.args import add_fast_path_args, fast_path_from_args
from mmvid.cli.tool_config import check_output_file
from mmvid.data_preparation.atomic import atomic_file
from mmvid.datasets.annotation import load_label_map
from mmvid.visualization import (LabelledWriter, Segment,
                                 SlidingWindowPredictor, capture_fps,
                                 check_display, check_window, iter_frames,
                                 label_lines, open_capture, output_size,
                                 parse_source, plot_timeline, run_live,
                                 segment_at, write_labelled_video)
from mmvid.visualization.timeline import figure_class
from mmvid.visualization.video_io import DEFAULT_FOURCC

VIDEO_EXTS = ('.mp4', '.avi', '.mkv', '.mov')
OUTPUT_FLAGS = (('out_file', '--out-file'), ('out_json', '--out-json'),
                ('timeline', '--timeline'))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('video', nargs='?',
                        help='video file or folder of frames (leave out '
                        'with --camera)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('label_map', help='class names, one a line')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    parser.add_argument('--top-k', type=int, default=5,
                        help='classes to print and draw (default 5)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    out = parser.add_argument_group('outputs')
    out.add_argument('--out-file', help='the video with the classes drawn '
                     'on every frame (.mp4; same fps and size as the input)')
    out.add_argument('--target-resolution', nargs=2, type=int,
                     metavar=('W', 'H'), help='size of --out-file (one side '
                     '-1 keeps the aspect ratio)')
    out.add_argument('--fourcc', default=DEFAULT_FOURCC,
                     help=f'codec of --out-file (default {DEFAULT_FOURCC}; '
                     'avc1 = H.264 where OpenCV can encode it)')
    out.add_argument('--out-json', help='the segments of --window / '
                     '--camera (frames, seconds, top classes) as JSON')
    out.add_argument('--timeline', help='PNG of the segments: top-1 band '
                     'and score curves over time')
    win = parser.add_argument_group('long videos and cameras')
    win.add_argument('--window', type=int, help='predict on windows of N '
                     'frames (camera: default the clip span of the test '
                     'pipeline, clip_len x frame_interval)')
    win.add_argument('--stride', type=int, help='a window every M frames '
                     '(default: --window, back to back)')
    win.add_argument('--camera', help='camera index (0) or a video file / '
                     'stream read live instead of VIDEO')
    win.add_argument('--no-show', action='store_true',
                     help='camera: do not open a window')
    win.add_argument('--max-frames', type=int,
                     help='camera: stop after this many frames')
    add_fast_path_args(parser)
    return parser.parse_args(argv)


def check_args(args: argparse.Namespace) -> None:
    """Refuse inconsistent flags before loading anything (``ValueError``
    naming the flag; ``ImportError`` for --timeline without matplotlib)."""
    if args.top_k < 1:
        raise ValueError('--top-k must be >= 1')
    if (args.video is None) == (args.camera is None):
        raise ValueError('give either VIDEO or --camera SOURCE (not both)')
    if args.camera is None:
        for flag in ('no_show', 'max_frames'):
            if getattr(args, flag):
                raise ValueError(f'--{flag.replace("_", "-")} needs --camera')
        if args.window is None:
            if args.stride is not None:
                raise ValueError('--stride needs --window')
            for attr, flag in OUTPUT_FLAGS[1:]:
                if getattr(args, attr):
                    raise ValueError(f'{flag} needs --window (or --camera)')
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f'--max-frames must be >= 1, got {args.max_frames}')
    if args.window is not None:
        check_window(args.window,
                     args.window if args.stride is None else args.stride)
    elif args.stride is not None:
        check_window(1, args.stride)
    if args.target_resolution is not None:
        if not args.out_file:
            raise ValueError('--target-resolution needs --out-file')
        output_size((2, 2), tuple(args.target_resolution))
    for attr, flag in OUTPUT_FLAGS:
        if getattr(args, attr):
            check_output_file(getattr(args, attr), flag)
    if args.out_file and not args.out_file.lower().endswith(VIDEO_EXTS):
        raise ValueError(f'--out-file {args.out_file}: give a video file '
                         f'({", ".join(VIDEO_EXTS)})')
    if args.timeline and not args.timeline.lower().endswith('.png'):
        raise ValueError(f'--timeline {args.timeline}: give a .png file')
    if args.timeline:
        figure_class()  # matplotlib is there, or ImportError now


def clip_span(cfg) -> int:
    """``clip_len x frame_interval`` of the test pipeline's sampler (the
    frames one clip covers)."""
    for transform in config_test_pipeline(cfg):
        if transform_type_name(transform).endswith('SampleFrames'):
            return int(transform.get('clip_len', 1)) * int(
                transform.get('frame_interval', 1))
    raise KeyError("the config's test pipeline has no SampleFrames; give "
                   '--window')


def segment_header(segment: Segment, fps: float) -> str:
    """``'0.00-1.28 s'``: the segment's time."""
    return f'{segment.start / fps:.2f}-{segment.end / fps:.2f} s'


def print_segment(segment: Segment, fps: float) -> None:
    tops = ', '.join(f'{name}: {score:.4f}' for _, name, score in segment.top)
    print(f'[{segment_header(segment, fps)}] frames {segment.start}-'
          f'{segment.end - 1}: {tops}', flush=True)


def write_outputs(args: argparse.Namespace, segments: List[Segment],
                  total_frames: int, fps: float, source: str,
                  names: List[str]) -> None:
    """``--out-json`` and ``--timeline`` of a window / camera run, each
    written atomically."""
    if args.out_json:
        record = dict(video=source, config=args.config,
                      checkpoint=args.checkpoint, fps=fps,
                      total_frames=total_frames, window=args.window,
                      stride=args.stride,
                      segments=[s.to_dict(fps) for s in segments])
        with atomic_file(args.out_json) as tmp:
            with open(tmp, 'w') as f:
                json.dump(record, f, indent=1)
        print(f'segments: {args.out_json}')
    if args.timeline:
        with atomic_file(args.timeline) as tmp:
            plot_timeline(segments, total_frames, fps, tmp, names,
                          title=f'{osp.basename(source)}: window '
                          f'{args.window}, stride {args.stride}')
        print(f'timeline: {args.timeline}')


def whole_video(args: argparse.Namespace, model, names: List[str]) -> None:
    """One prediction of the whole video (all the test views), printed and
    drawn on every frame of ``--out-file``."""
    result = inference_recognizer(model, args.video)
    best = top_k_classes(result, args.top_k, names)
    print(f'top-{len(best)} classes of {args.video}:')
    for rank, (_, name, score) in enumerate(best, start=1):
        print(f'{rank}. {name}: {score:.6f}')
    if args.out_file:
        if osp.isdir(args.video):
            raise ValueError('--out-file needs a video file, not a frame '
                             'folder')
        lines = label_lines(best)
        with atomic_file(args.out_file) as tmp:
            write_labelled_video(args.video, tmp, lambda _: lines,
                                 target_of(args), args.fourcc)
        print(f'labelled video: {args.out_file}')


def target_of(args: argparse.Namespace) -> Optional[tuple]:
    return None if args.target_resolution is None else tuple(
        args.target_resolution)


def windows(args: argparse.Namespace, model, names: List[str]) -> None:
    """Window by window over a video file; then the JSON, the timeline and
    the video labelled with each frame's segment (a second reading)."""
    if osp.isdir(args.video):
        raise ValueError('--window needs a video file, not a frame folder')
    capture = open_capture(args.video)
    fps = capture_fps(capture)
    predictor = SlidingWindowPredictor(model, args.window, args.stride,
                                       args.top_k, names)
    try:
        run = run_live(iter_frames(capture), predictor, lambda *_: [],
                       on_segment=lambda s: print_segment(s, fps))
    finally:
        capture.release()
    if run.frames == 0:
        raise RuntimeError(f'OpenCV read no frame of {args.video}')
    if run.frames < args.window:
        print(f'note: --window {args.window} is longer than the video '
              f'({run.frames} frames): one segment of the whole video')
    print(f'{len(run.segments)} segments of {run.frames} frames '
          f'({fps:g} fps): window {args.window}, stride {args.stride}')
    write_outputs(args, run.segments, run.frames, fps, args.video, names)
    if args.out_file:
        def lines_at(frame: int) -> List[str]:
            segment = segment_at(run.segments, frame)
            return label_lines(segment.top, segment_header(segment, fps))

        with atomic_file(args.out_file) as tmp:
            write_labelled_video(args.video, tmp, lines_at, target_of(args),
                                 args.fourcc)
        print(f'labelled video: {args.out_file}')


def camera(args: argparse.Namespace, model, names: List[str]) -> None:
    """The live loop over ``--camera``; outputs as with ``--window``."""
    source = parse_source(args.camera)
    if not args.no_show:
        check_display()
    capture = open_capture(source)
    fps = capture_fps(capture)
    predictor = SlidingWindowPredictor(model, args.window, args.stride,
                                       args.top_k, names)

    def lines_for(segment: Optional[Segment], frames: int) -> List[str]:
        if segment is None:
            return [f'collecting {frames}/{args.window} frames']
        return label_lines(segment.top, segment_header(segment, fps))

    def loop(writer: Optional[LabelledWriter]):
        return run_live(iter_frames(capture), predictor, lines_for, writer,
                        show=not args.no_show, max_frames=args.max_frames,
                        on_segment=lambda s: print_segment(s, fps))

    try:
        if args.out_file:
            with atomic_file(args.out_file) as tmp:
                writer = LabelledWriter(tmp, fps, target_of(args),
                                        args.fourcc)
                try:
                    run = loop(writer)
                finally:
                    writer.close()
        else:
            run = loop(None)
    finally:
        capture.release()
    print(f'stopped ({run.stop}) after {run.frames} frames: '
          f'{len(run.segments)} segments')
    if args.out_file:
        print(f'labelled video: {args.out_file}')
    if run.segments:
        write_outputs(args, run.segments, run.frames, fps, str(source),
                      names)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_args(args)
        names = load_label_map(args.label_map)
        device = torch.device(args.device)
        fast = fast_path_from_args(args, device)
        model = init_recognizer(args.config, args.checkpoint,
                                device=args.device,
                                cfg_options=args.cfg_options, fast=fast)
        if not fast.is_default:
            print(describe_fast_path(fast, device, args.fast))
        if args.camera is not None and args.window is None:
            args.window = clip_span(model.cfg)
        if args.window is not None and args.stride is None:
            args.stride = args.window
        if args.camera is not None:
            camera(args, model, names)
        elif args.window is not None:
            windows(args, model, names)
        else:
            whole_video(args, model, names)
    except (ValueError, KeyError, FileNotFoundError, RuntimeError,
            ImportError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    return 0


def run(argv=None) -> None:
    sys.exit(main(argv))

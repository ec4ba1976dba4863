"""Throughput of the I3D 32x2x1 train pipeline: eager vs lazy, video vs
rawframes, printed as clips/s and as ratios against the eager video baseline
measured in the same run.

The data are generated here: ``--videos`` clips of ``--frames`` frames at
340x256 (the Kinetics "340x256" layout), smooth moving patterns written as
MPEG-4 Part 2 (``mp4v``) ``.mp4`` with OpenCV, and the same frames as JPEG
rawframes (quality 95). Each configuration decodes and transforms every video
``--rounds`` times. With ``--workers 0`` (the default) the configurations
are interleaved sample by sample, in a rotating order, so that drift in
the machine's speed affects all of them alike; with ``--workers N`` each
configuration runs through a torch DataLoader with N worker processes, one
configuration after the other.

Example::

    python benchmarks/data_pipeline.py --videos 8 --rounds 2
"""
import argparse
import os
import os.path as osp
import tempfile
import time

import cv2
import numpy as np
import torch
from mmcv.transforms import Compose
from torch.utils.data import DataLoader, Dataset

from mmvid.utils import register_all_modules

register_all_modules()  # mmvid as the default scope: Compose finds its names

WIDTH, HEIGHT = 340, 256


def write_data(root: str, num_videos: int, num_frames: int) -> list:
    """Write videos and their rawframes; return (video, frame_dir) pairs."""
    items = []
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    for v in range(num_videos):
        video = osp.join(root, f'video_{v}.mp4')
        frame_dir = osp.join(root, f'frames_{v}')
        os.makedirs(frame_dir)
        writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 25,
                                 (WIDTH, HEIGHT))
        for i in range(num_frames):
            phase = 0.05 * i + v
            bgr = np.stack([
                127 + 120 * np.sin(0.03 * xx + phase),
                127 + 120 * np.sin(0.04 * yy - phase),
                127 + 120 * np.sin(0.02 * (xx + yy) + 2 * phase)
            ], -1).astype(np.uint8)
            writer.write(bgr)
            cv2.imwrite(osp.join(frame_dir, f'img_{i + 1:05}.jpg'), bgr,
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
        writer.release()
        items.append((video, frame_dir))
    return items


def train_pipeline(source: str, lazy: bool) -> Compose:
    """mmaction2's I3D 32x2x1 train pipeline (1.x packing)."""
    if source == 'video':
        head = [dict(type='DecordInit'),
                dict(type='SampleFrames', clip_len=32, frame_interval=2,
                     num_clips=1),
                dict(type='DecordDecode')]
    else:
        head = [dict(type='SampleFrames', clip_len=32, frame_interval=2,
                     num_clips=1),
                dict(type='RawFrameDecode')]
    spatial = [
        dict(type='Resize', scale=(-1, 256), lazy=lazy),
        dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.8),
             random_crop=False, max_wh_scale_gap=0, lazy=lazy),
        dict(type='Resize', scale=(224, 224), keep_ratio=False, lazy=lazy),
        dict(type='Flip', flip_ratio=0.5, lazy=lazy),
    ] + ([dict(type='Fuse')] if lazy else [])
    return Compose(head + spatial + [
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ])


def make_sample(item, source: str, num_frames: int, seed: int) -> dict:
    video, frame_dir = item
    rng = np.random.default_rng(seed)
    if source == 'video':
        return dict(filename=video, start_index=0, label=0, rng=rng)
    return dict(frame_dir=frame_dir, total_frames=num_frames, start_index=1,
                filename_tmpl='img_{:05}.jpg', offset=0, label=0, rng=rng)


class PipelineDataset(Dataset):
    """Each item runs the pipeline on one video (or its rawframes)."""

    def __init__(self, items, source, lazy, num_frames, rounds):
        self.items, self.source, self.lazy = items, source, lazy
        self.num_frames, self.rounds = num_frames, rounds
        self.pipeline = train_pipeline(source, lazy)

    def __len__(self):
        return len(self.items) * self.rounds

    def __getitem__(self, index):
        sample = make_sample(self.items[index % len(self.items)], self.source,
                             self.num_frames, index)
        return self.pipeline(sample)['inputs']


def interleaved_rates(items, configs, num_frames: int, rounds: int) -> dict:
    """clips/s of each configuration, timed sample by sample in turn."""
    pipelines = {c: train_pipeline(*c) for c in configs}
    seconds = dict.fromkeys(configs, 0.0)
    step = 0
    for index in range(len(items) * rounds):
        item = items[index % len(items)]
        for config in configs[step % len(configs):] + configs[:step %
                                                                 len(configs)]:
            sample = make_sample(item, config[0], num_frames, index)
            start = time.perf_counter()
            clip = pipelines[config](sample)['inputs']
            seconds[config] += time.perf_counter() - start
            assert clip.shape == (1, 3, 32, 224, 224)
        step += 1
    return {c: len(items) * rounds / seconds[c] for c in configs}


def clips_per_second(dataset: Dataset, workers: int) -> float:
    loader = DataLoader(dataset, batch_size=None, num_workers=workers,
                        shuffle=False)
    start = time.perf_counter()
    count = 0
    for clip in loader:
        assert clip.shape == (1, 3, 32, 224, 224)
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--videos', type=int, default=8)
    parser.add_argument('--frames', type=int, default=150)
    parser.add_argument('--rounds', type=int, default=4,
                        help='passes over the videos per configuration')
    parser.add_argument('--workers', type=int, default=0)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as root:
        items = write_data(root, args.videos, args.frames)
        configs = [('video', False), ('video', True), ('rawframes', False),
                   ('rawframes', True)]
        # warm up file caches and imports once per source
        for source, lazy in configs[::2]:
            clips_per_second(
                PipelineDataset(items[:1], source, lazy, args.frames, 1), 0)
        if args.workers == 0:
            rates = interleaved_rates(items, configs, args.frames,
                                      args.rounds)
        else:
            rates = {(source, lazy): clips_per_second(
                PipelineDataset(items, source, lazy, args.frames,
                                args.rounds), args.workers)
                     for source, lazy in configs}
    baseline = rates['video', False]
    print(f'I3D 32x2x1 train pipeline, {args.videos} videos x {args.frames} '
          f'frames at {WIDTH}x{HEIGHT} (mp4v / JPEG q95), {args.rounds} '
          f'rounds, workers={args.workers}, torch {torch.__version__}, '
          f'opencv {cv2.__version__}')
    print(f'{"source":10s} {"mode":6s} {"clips/s":>8s} {"vs eager video":>15s}')
    for (source, lazy), rate in rates.items():
        print(f'{source:10s} {"lazy" if lazy else "eager":6s} {rate:8.2f} '
              f'{rate / baseline:14.2f}x')
    for source in ('video', 'rawframes'):
        print(f'lazy / eager ({source}): '
              f'{rates[source, True] / rates[source, False]:.2f}x')


if __name__ == '__main__':
    main()

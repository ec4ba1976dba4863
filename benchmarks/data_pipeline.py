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
configuration after the other. ``--json OUT`` also writes the figures.

``data_throughput.py`` imports the data, pipelines and dataset from here.

Example::

    python benchmarks/data_pipeline.py --videos 8 --rounds 2
"""
import argparse
import itertools
import os
import os.path as osp
import tempfile
import time
from typing import Callable, List, Optional

import cv2
import decord
import numpy as np
import torch
from mmcv.transforms import Compose
from torch.utils.data import DataLoader, Dataset

from mmvid.utils import register_all_modules

from benchkit import (fmt_ratio, interleaved_times, machine_description,
                      ratio, write_json)

register_all_modules()  # mmvid as the default scope: Compose finds its names

WIDTH, HEIGHT = 340, 256
CONFIGS = (('video', False), ('video', True), ('rawframes', False),
           ('rawframes', True))  # (source, lazy)
CLIP_SHAPE = (1, 3, 32, 224, 224)  # one clip of the 32x2x1 train pipeline


def machine_with_libraries() -> dict:
    """Returns benchkit's machine description (CPU) with the versions of
    decord, OpenCV and NumPy and whether CUDA is available."""
    return dict(machine_description(), decord=decord.__version__,
                opencv=cv2.__version__, numpy=np.__version__,
                cuda=torch.cuda.is_available())


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


def pipeline_calls(items: list, num_frames: int) -> dict:
    """Per configuration, a call that runs its pipeline on the next sample
    (the videos in turn, seeded with the sample's index)."""

    def call(config) -> Callable[[], None]:
        pipeline = train_pipeline(*config)
        indices = itertools.count()

        def run():
            index = next(indices)
            sample = make_sample(items[index % len(items)], config[0],
                                 num_frames, index)
            assert pipeline(sample)['inputs'].shape == CLIP_SHAPE

        return run

    return {config: call(config) for config in CONFIGS}


def interleaved_rates(items: list, num_frames: int, rounds: int) -> dict:
    """clips/s of each configuration, timed sample by sample in turn."""
    times = interleaved_times(pipeline_calls(items, num_frames),
                              len(items) * rounds, warmup=0)
    return {config: len(t) / sum(t) for config, t in times.items()}


def lazy_over_eager(rates: dict) -> dict:
    """Returns ``{source: lazy clips/s / eager clips/s}`` of
    ``{(source, lazy): clips/s}``."""
    return {source: ratio(rates[source, True], rates[source, False])
            for source in ('video', 'rawframes')}


def clips_per_second(dataset: Dataset, workers: int) -> float:
    loader = DataLoader(dataset, batch_size=None, num_workers=workers,
                        shuffle=False)
    start = time.perf_counter()
    count = 0
    for clip in loader:
        assert clip.shape == CLIP_SHAPE
        count += 1
    return count / (time.perf_counter() - start)


def report(result: dict) -> None:
    """Print the settings, the table and the lazy / eager ratios."""
    m, s = result['machine'], result['settings']
    print(f'I3D 32x2x1 train pipeline, {s["videos"]} videos x {s["frames"]} '
          f'frames at {s["width"]}x{s["height"]} (mp4v / JPEG q95), '
          f'{s["rounds"]} rounds, workers={s["workers"]}, torch '
          f'{m["torch"]}, opencv {m["opencv"]}')
    print(f'{"source":10s} {"mode":6s} {"clips/s":>8s} '
          f'{"vs eager video":>15s}')
    for row in result['results']:
        print(f'{row["source"]:10s} {row["mode"]:6s} '
              f'{row["clips_per_s"]:8.2f} {fmt_ratio(row["ratio"]):>15}')
    for source, gain in result['lazy_over_eager'].items():
        print(f'lazy / eager ({source}): {fmt_ratio(gain)}')


def main(argv: Optional[List[str]] = None) -> dict:
    """Run the benchmark, print it and return the figures (JSON-ready)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--videos', type=int, default=8)
    parser.add_argument('--frames', type=int, default=150)
    parser.add_argument('--rounds', type=int, default=4,
                        help='passes over the videos per configuration')
    parser.add_argument('--workers', type=int, default=0)
    parser.add_argument('--json', metavar='OUT',
                        help='also write the figures to this JSON file')
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as root:
        items = write_data(root, args.videos, args.frames)
        # warm up file caches and imports once per source
        for source, lazy in CONFIGS[::2]:
            clips_per_second(
                PipelineDataset(items[:1], source, lazy, args.frames, 1), 0)
        if args.workers == 0:
            rates = interleaved_rates(items, args.frames, args.rounds)
        else:
            rates = {(source, lazy): clips_per_second(
                PipelineDataset(items, source, lazy, args.frames,
                                args.rounds), args.workers)
                     for source, lazy in CONFIGS}
    baseline = rates['video', False]
    result = dict(
        machine=machine_with_libraries(),
        settings=dict(videos=args.videos, frames=args.frames, width=WIDTH,
                      height=HEIGHT, rounds=args.rounds,
                      workers=args.workers),
        baseline=dict(source='video', mode='eager', clips_per_s=baseline),
        results=[dict(source=source, mode='lazy' if lazy else 'eager',
                      clips_per_s=rate, ratio=ratio(rate, baseline))
                 for (source, lazy), rate in rates.items()],
        lazy_over_eager=lazy_over_eager(rates))
    report(result)
    write_json(args.json, result)
    return result


if __name__ == '__main__':
    main()

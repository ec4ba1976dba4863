"""Data-loader throughput of the I3D 32x2x1 train or test pipeline
(``--pipeline``) by worker count: eager vs lazy, video vs rawframes, as
samples/s and as ratios against the baseline (eager video with the first
``--workers`` count) measured in the same run.

The pipelines are ``data_pipeline.py``'s (``PROTOCOLS``). ``--pipeline
train`` (the default): one 32x2 clip per video, Resize, MultiScaleCrop 224,
Resize, Flip; a sample is one clip, the rate clips/s; eager and lazy.
``--pipeline test``: 10 test-mode clips of 32x2 per video, Resize to short
side 256, ThreeCrop 256; a sample is one video with its 30 views (inputs
30x3x32x256x256), the rate videos/s. ThreeCrop has no lazy mode, so the
test pipeline runs eager only: the tables have no lazy rows or columns and
no lazy / eager ratios, and one line says so.

The data and pipelines come from ``data_pipeline.py`` (imported, not
copied): ``--videos`` clips of ``--frames`` frames at 340x256 written with
OpenCV, and the same frames as JPEG rawframes (quality 95), in a temporary
directory. The videos are H.264 when this OpenCV can write it (``avc1``:
re-encoded from the rawframes) and MPEG-4 Part 2 (``mp4v``, the writer's
own) otherwise; ``--codec`` forces one and the output says which.

Every (worker count, source, mode) gets its own torch ``DataLoader`` set up
like the dataset configs' loaders (``configs/_base_/datasets/
default_loaders.py``): persistent workers, ``mmvid.limit_worker_threads``
as ``worker_init_fn`` (one OpenCV and one torch thread per worker; decord
decodes with ``DecordInit``'s default ``num_threads='auto'``: the usable
cores shared among the workers, all of them with ``--workers 0``), pinned
memory only where CUDA is available, batch size ``--batch-size``. The main
process's OpenCV and torch are limited the same way.

Each loader first runs one untimed epoch (it starts the persistent workers
and warms the file cache); then ``--rounds`` timed epochs each, one epoch
per loader in turn, the order rotated every round, so that drift in the
machine's speed (another job on it) affects all configurations alike.
clips/s (train) or videos/s (test) = samples loaded / seconds spent
iterating that loader's epochs.

Example::

    python benchmarks/data_throughput.py --videos 8 --rounds 2 \\
        --workers 0 1 2 --json throughput.json
    python benchmarks/data_throughput.py --pipeline test --videos 4 \\
        --rounds 1 --workers 0 1
"""
import argparse
import contextlib
import functools
import gc
import os
import os.path as osp
import sys
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import decord
import numpy as np
import torch
from torch.utils.data import DataLoader

from mmvid.registry import FUNCTIONS

import data_pipeline  # writer, pipelines and dataset
from benchkit import (describe_cpu, fmt_ratio, interleaved_times, ratio,
                      write_json)
from data_pipeline import PROTOCOLS

# the loader configs' worker_init_fn, looked up by the name they use
limit_worker_threads = FUNCTIONS.get('mmvid.limit_worker_threads')

CODECS = dict(h264=('avc1', 'H.264 (avc1)'),
              mpeg4=('mp4v', 'MPEG-4 Part 2 (mp4v)'))

Key = Tuple[int, str, bool]  # (workers, source, lazy)


@contextlib.contextmanager
def quiet_stderr():
    """Silence the process's stderr (FFmpeg's encoder errors) for a while."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, 'w') as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def can_write_h264(root: str) -> bool:
    """Whether OpenCV writes an ``avc1`` .mp4 here that decord reads."""
    path = osp.join(root, 'probe_avc1.mp4')
    with quiet_stderr():
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'avc1'), 25,
                                 (data_pipeline.WIDTH, data_pipeline.HEIGHT))
        opened = writer.isOpened()
        if opened:
            for i in range(4):
                writer.write(np.full((data_pipeline.HEIGHT,
                                      data_pipeline.WIDTH, 3), 40 * i,
                                     np.uint8))
        writer.release()
    try:
        return opened and len(decord.VideoReader(path)) == 4
    except Exception:  # noqa: BLE001  (an unreadable file: no H.264)
        return False
    finally:
        if osp.exists(path):
            os.remove(path)


def reencode_h264(items: list, num_frames: int) -> None:
    """Replace each video by an ``avc1`` encoding of its rawframes."""
    for video, frame_dir in items:
        writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'avc1'), 25,
                                 (data_pipeline.WIDTH, data_pipeline.HEIGHT))
        for i in range(num_frames):
            writer.write(cv2.imread(osp.join(frame_dir,
                                             f'img_{i + 1:05}.jpg')))
        writer.release()
        assert len(decord.VideoReader(video)) == num_frames, video


def write_data(root: str, num_videos: int, num_frames: int,
               codec: str) -> Tuple[list, str]:
    """data_pipeline's videos and rawframes; returns (items, codec name)."""
    if codec == 'auto':
        codec = 'h264' if can_write_h264(root) else 'mpeg4'
    elif codec == 'h264' and not can_write_h264(root):
        raise RuntimeError('this OpenCV cannot write H.264 (avc1) videos '
                           'that decord reads; use --codec mpeg4')
    items = data_pipeline.write_data(root, num_videos, num_frames)
    if codec == 'h264':
        reencode_h264(items, num_frames)
    return items, codec


def make_loader(items: list, source: str, lazy: bool, num_frames: int,
                workers: int, batch_size: int,
                pipeline: str = 'train') -> DataLoader:
    """A loader set up like the configs' loaders (one epoch: every video
    once, through ``PROTOCOLS[pipeline]``)."""
    dataset = data_pipeline.PipelineDataset(items, source, lazy, num_frames,
                                            rounds=1, pipeline=pipeline)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=torch.cuda.is_available(),
        worker_init_fn=limit_worker_threads if workers > 0 else None)


def run_epoch(loader: DataLoader) -> None:
    """One pass over the loader: every video once, as one sample (a clip
    for train, the video's 30 views for test) of the dataset's shape."""
    samples = 0
    for batch in loader:
        assert tuple(batch.shape[1:]) == loader.dataset.shape, batch.shape
        samples += batch.shape[0]
    assert samples == len(loader.dataset), (samples, len(loader.dataset))


def measure(items: list, num_frames: int, workers: Sequence[int],
            rounds: int, batch_size: int,
            pipeline: str = 'train') -> Dict[Key, Tuple[int, float]]:
    """(samples, seconds) of every configuration of ``PROTOCOLS[pipeline]``
    with every worker count, timed epoch by epoch in a rotating order after
    one untimed epoch each."""
    epochs = {(w, source, lazy): functools.partial(
        run_epoch, make_loader(items, source, lazy, num_frames, w,
                               batch_size, pipeline))
              for w in workers
              for source, lazy in PROTOCOLS[pipeline].configs}
    try:
        times = interleaved_times(epochs, rounds, warmup=1)
    finally:
        epochs.clear()  # ends the persistent workers
        gc.collect()
    return {key: (len(items) * len(t), sum(t)) for key, t in times.items()}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pipeline', choices=tuple(PROTOCOLS),
                        default='train',
                        help='train: clips/s, eager and lazy; test: '
                        'videos/s (10 clips x 3 crops each), eager only')
    parser.add_argument('--videos', type=int, default=8)
    parser.add_argument('--frames', type=int, default=150,
                        help='frames per generated video')
    parser.add_argument('--rounds', type=int, default=4,
                        help='timed epochs (each video once) per '
                        'configuration')
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2],
                        help='loader worker counts; the first one is the '
                        "baseline's")
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--codec', choices=('auto', 'h264', 'mpeg4'),
                        default='auto',
                        help='auto: H.264 where OpenCV can write it, '
                        'else MPEG-4 Part 2')
    parser.add_argument('--json', metavar='OUT',
                        help='also write the figures to this JSON file')
    args = parser.parse_args(argv)
    for name in ('videos', 'frames', 'rounds', 'batch_size'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if min(args.workers) < 0 or len(set(args.workers)) != len(args.workers):
        parser.error('--workers: distinct counts >= 0')
    return args


def report(result: dict) -> None:
    """Print the settings, the machine, the per-configuration table and the
    ratios by worker count (lazy / eager only where the pipeline has lazy
    configurations; otherwise one line says why not)."""
    m, s = result['machine'], result['settings']
    protocol = PROTOCOLS[s['pipeline']]
    unit = s['unit']
    print(f'I3D 32x2x1 {s["pipeline"]} pipeline in {unit} '
          f'({protocol.sample}) through torch DataLoaders: '
          f'{s["videos"]} videos x {s["frames"]} frames at '
          f'{s["width"]}x{s["height"]}, {s["codec"]} / JPEG q95 rawframes; '
          f'{s["rounds"]} timed epoch{"s" * (s["rounds"] > 1)} per '
          f'configuration after 1 untimed, '
          f'interleaved; batch size {s["batch_size"]}')
    print(f'loaders: persistent workers, worker_init_fn '
          f'mmvid.limit_worker_threads (1 OpenCV + 1 torch thread per '
          f'worker, main process too), decord num_threads=auto (cores '
          f'shared among the workers), '
          f'pin_memory={s["pin_memory"]}')
    print(f'machine: {describe_cpu(m)}, python {m["python"]}, torch '
          f'{m["torch"]}, decord {m["decord"]}, opencv {m["opencv"]}, '
          f'numpy {m["numpy"]}, cuda={m["cuda"]}; load average '
          f'{result["load_average"]["start"]:.2f} at start, '
          f'{result["load_average"]["end"]:.2f} at end')
    base = result['baseline']
    print(f'baseline: {base["source"]} {base["mode"]}, workers='
          f'{base["workers"]}')
    print()
    print(f'{"workers":>7s}  {"source":10s} {"mode":6s} {unit:>8s} '
          f'{"vs baseline":>12s}')
    for row in result['results']:
        print(f'{row["workers"]:7d}  {row["source"]:10s} {row["mode"]:6s} '
              f'{row[protocol.rate_key]:8.2f} '
              f'{fmt_ratio(row["ratio"]):>12}')
    print()
    print('ratios vs baseline')
    columns = [f'{source} {"lazy" if lazy else "eager"}'
               for source, lazy in protocol.configs]
    gains = ([] if protocol.no_lazy else  # (source, title, width)
             [('video', 'lazy/eager video', 16),
              ('rawframes', 'lazy/eager raw', 14)])
    print(f'{"workers":>7s}  ' + '  '.join(f'{c:>15s}' for c in columns) +
          ''.join(f'  {title:>{width}s}' for _, title, width in gains))
    by_key = {(r['workers'], r['source'], r['mode']): r
              for r in result['results']}
    for w in s['workers']:
        ratios = [by_key[w, source, 'lazy' if lazy else 'eager']['ratio']
                  for source, lazy in protocol.configs]
        gain = result.get('lazy_over_eager', {}).get(str(w), {})
        print(f'{w:7d}  ' + '  '.join(f'{fmt_ratio(r):>15}' for r in ratios)
              + ''.join(f'  {fmt_ratio(gain[source]):>{width}}'
                        for source, _, width in gains))
    if protocol.no_lazy:
        print(f'no lazy configurations: {protocol.no_lazy}')


def main(argv: Optional[List[str]] = None) -> dict:
    """Run the benchmark, print it and return the figures (JSON-ready)."""
    args = parse_args(argv)
    saved = (torch.get_num_threads(), cv2.getNumThreads(),
             cv2.ocl.useOpenCL())
    limit_worker_threads(0)  # the main process as a worker: 1 thread
    load_start = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory() as root:
            items, codec = write_data(root, args.videos, args.frames,
                                      args.codec)
            totals = measure(items, args.frames, args.workers, args.rounds,
                             args.batch_size, args.pipeline)
    finally:  # the caller's thread settings back (main() run in a test)
        torch.set_num_threads(saved[0])
        cv2.setNumThreads(saved[1])
        cv2.ocl.setUseOpenCL(saved[2])
    load_end = os.getloadavg()[0]
    protocol = PROTOCOLS[args.pipeline]
    noun, rate_key = protocol.noun, protocol.rate_key  # clips or videos
    base_key = (args.workers[0], 'video', False)
    base_rate = totals[base_key][0] / totals[base_key][1]
    results = []
    for (w, source, lazy), (samples, seconds) in totals.items():
        rate = samples / seconds
        results.append({
            'workers': w, 'source': source,
            'mode': 'lazy' if lazy else 'eager', noun: samples,
            'seconds': seconds, rate_key: rate,
            'ratio': ratio(rate, base_rate)})
    rates = {key: samples / seconds
             for key, (samples, seconds) in totals.items()}
    result = dict(
        machine=data_pipeline.machine_with_libraries(),
        settings=dict(pipeline=args.pipeline, unit=protocol.unit,
                      sample_shape=list(protocol.shape), videos=args.videos,
                      frames=args.frames, width=data_pipeline.WIDTH,
                      height=data_pipeline.HEIGHT, codec=CODECS[codec][1],
                      rounds=args.rounds, workers=list(args.workers),
                      batch_size=args.batch_size, persistent_workers=True,
                      worker_init_fn='mmvid.limit_worker_threads',
                      pin_memory=torch.cuda.is_available()),
        load_average=dict(start=load_start, end=load_end),
        baseline={'workers': base_key[0], 'source': 'video',
                  'mode': 'eager', rate_key: base_rate},
        results=results)
    if protocol.no_lazy:
        result['settings']['no_lazy'] = protocol.no_lazy
    else:
        result['lazy_over_eager'] = {
            str(w): data_pipeline.lazy_over_eager(
                {(source, lazy): rate
                 for (workers, source, lazy), rate in rates.items()
                 if workers == w})
            for w in args.workers}
    report(result)
    write_json(args.json, result)
    return result


if __name__ == '__main__':
    main()

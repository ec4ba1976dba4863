"""Throughput of the I3D 32x2x1 train or test pipeline (``--pipeline``):
eager vs lazy, video vs rawframes, printed as samples/s and as ratios
against the eager video baseline measured in the same run; then the eager
pipelines transform by transform.

``--pipeline train`` (the default) is mmaction2's I3D 32x2x1 train pipeline:
one random 32x2 clip per video, Resize to short side 256, MultiScaleCrop 224
of scales (1, 0.8), Resize 224x224, Flip 0.5; a sample is one clip
(inputs 1x3x32x224x224), the rate clips/s. ``--pipeline test`` is its test
pipeline: 10 clips of 32x2 spaced over the video (test mode), Resize to
short side 256, ThreeCrop 256; a sample is one video with its 30 views
(inputs 30x3x32x256x256), the rate videos/s. ThreeCrop has no lazy mode, so
the test pipeline runs eager only (video and rawframes): its report and
JSON have no lazy rows or lazy / eager ratios, and say so in one line.
Both decode with DecordInit + DecordDecode (video) or RawFrameDecode
(rawframes) and end with FormatShape NCTHW and PackActionInputs.

The data are generated here: ``--videos`` clips of ``--frames`` frames at
``--size WxH`` (default 340x256, the Kinetics "340x256" layout), smooth
moving patterns written as H.264 ``.mp4`` at x264's defaults (PyAV's
libx264; ``--codec h264``, the default where PyAV is installed) or as
MPEG-4 Part 2 with OpenCV (``--codec mp4v``, the default without PyAV),
and the same frames as JPEG rawframes (quality 95). ``--video-dir DIR``
runs on the videos of DIR instead (its files ending .mp4, .avi, .mkv, .webm
or .mov, any case, sorted by name; ``--videos``, ``--frames``, ``--size``
and ``--codec`` are then unused): video configurations only, as there are no
rawframes, and the report names the folder, its number of videos and their
sizes and frame counts. Each configuration decodes and transforms every
video ``--rounds`` times. With ``--workers 0`` (the default) the
configurations are interleaved sample by sample, in a rotating order, so
that drift in the machine's speed affects all of them alike; with
``--workers N`` each configuration runs through a torch DataLoader with N
worker processes, one configuration after the other.

Per transform: then, in this process whatever ``--workers``, the eager
configurations (video, and rawframes unless ``--video-dir``) run every
video ``--rounds`` times more, interleaved sample by sample as above, with
each transform of the pipeline called in turn as ``Compose`` calls them and
timed alone (``time.perf_counter()`` around the call, summed over all
samples). The table gives per transform, in pipeline order, its ms per
sample (ms/clip for train, ms/video for test) and its share of the
pipeline's time (``perf_counter()`` around the whole chain of transforms,
summed likewise: the transforms' sum is that less the loop's overhead),
and the pipeline's rate (clips/s or videos/s) over that time: the rate of
the transforms alone, without building the sample dict (the rates above
include it). ``--json OUT`` also writes the figures; the breakdown is under
``per_transform``.

``data_throughput.py`` imports the data, pipelines and dataset from here.

Example::

    python benchmarks/data_pipeline.py --videos 8 --rounds 2
    python benchmarks/data_pipeline.py --pipeline test --videos 4
    python benchmarks/data_pipeline.py --size 1280x720 --videos 4
    python benchmarks/data_pipeline.py --video-dir ~/kinetics/val_sample
"""
import argparse
import importlib
import itertools
import os
import os.path as osp
import tempfile
import time
from typing import (Callable, Dict, List, NamedTuple, Optional, Sequence,
                    Tuple)

import cv2
import decord
import numpy as np
import torch
from mmcv.transforms import Compose
from torch.utils.data import DataLoader, Dataset

from mmvid.utils import register_all_modules

from benchkit import (fmt_ms, fmt_ratio, interleaved_times,
                      machine_description, ratio, write_json)

register_all_modules()  # mmvid as the default scope: Compose finds its names

WIDTH, HEIGHT = 340, 256
CONFIGS = (('video', False), ('video', True), ('rawframes', False),
           ('rawframes', True))  # (source, lazy) of the train pipeline
CLIP_SHAPE = (1, 3, 32, 224, 224)  # one clip of the 32x2x1 train pipeline
TEST_SHAPE = (30, 3, 32, 256, 256)  # one video: 10 clips x 3 crops
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.webm', '.mov')


def machine_with_libraries() -> dict:
    """Returns benchkit's machine description (CPU) with the versions of
    decord, OpenCV and NumPy and whether CUDA is available."""
    return dict(machine_description(), decord=decord.__version__,
                opencv=cv2.__version__, numpy=np.__version__,
                cuda=torch.cuda.is_available())


def parse_size(text: str) -> Tuple[int, int]:
    """``'WxH'`` (e.g. ``'1280x720'``) as ``(width, height)``, both
    positive; argparse's ``type`` for ``--size``."""
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        width = height = 0
    if width <= 0 or height <= 0:
        raise argparse.ArgumentTypeError(
            f'expected WIDTHxHEIGHT with positive integers, e.g. 340x256; '
            f'got {text!r}')
    return width, height


def find_videos(folder: str) -> List[str]:
    """The paths of the videos in ``folder`` (files ending with one of
    :data:`VIDEO_EXTENSIONS`, any case), sorted by name.

    Raises:
        ValueError: ``folder`` is no folder or holds no such file.
    """
    if not osp.isdir(folder):
        raise ValueError(f'--video-dir {folder}: no such folder')
    videos = sorted(
        osp.join(folder, name) for name in os.listdir(folder)
        if name.lower().endswith(VIDEO_EXTENSIONS)
        and osp.isfile(osp.join(folder, name)))
    if not videos:
        raise ValueError(f'--video-dir {folder}: no videos (files ending '
                         f'{", ".join(VIDEO_EXTENSIONS)}) in this folder')
    return videos


def describe_videos(videos: Sequence[str]) -> List[dict]:
    """Per video: ``{file, width, height, frames}`` as decord reads it."""
    rows = []
    for video in videos:
        reader = decord.VideoReader(video, num_threads=1)
        height, width = reader[0].shape[:2]
        rows.append(dict(file=osp.basename(video), width=int(width),
                         height=int(height), frames=len(reader)))
    return rows


class H264Writer:
    """An H.264 ``.mp4`` written with PyAV's libx264 at x264's defaults (a
    key frame every 250 frames, 3 B-frames, CRF 23), as ffmpeg writes one
    by default; ``write`` takes ``[H, W, 3]`` uint8 RGB frames."""

    def __init__(self, path: str, size: Tuple[int, int], fps: int = 25):
        import av
        self.av = av
        self.container = av.open(path, 'w')
        self.stream = self.container.add_stream('libx264', rate=fps)
        self.stream.width, self.stream.height = size
        self.stream.pix_fmt = 'yuv420p'

    def write(self, rgb: np.ndarray) -> None:
        frame = self.av.VideoFrame.from_ndarray(rgb, format='rgb24')
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


def default_codec() -> str:
    """``'h264'`` where PyAV (with its libx264) is installed, else
    ``'mp4v'`` (OpenCV's MPEG-4 Part 2 writer, always there)."""
    try:
        importlib.import_module('av')
    except ImportError:
        return 'mp4v'
    return 'h264'


def write_data(root: str, num_videos: int, num_frames: int,
               size: Tuple[int, int] = (WIDTH, HEIGHT),
               codec: str = 'mp4v') -> list:
    """Write videos of ``size`` (width, height) with ``codec`` (``'mp4v'``:
    OpenCV's MPEG-4 Part 2; ``'h264'``: :class:`H264Writer`) and the same
    frames as rawframes; return (video, frame_dir) pairs."""
    items = []
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    for v in range(num_videos):
        video = osp.join(root, f'video_{v}.mp4')
        frame_dir = osp.join(root, f'frames_{v}')
        os.makedirs(frame_dir)
        if codec == 'h264':
            writer = H264Writer(video, size)
        else:
            writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'),
                                     25, (width, height))
        for i in range(num_frames):
            phase = 0.05 * i + v
            bgr = np.stack([
                127 + 120 * np.sin(0.03 * xx + phase),
                127 + 120 * np.sin(0.04 * yy - phase),
                127 + 120 * np.sin(0.02 * (xx + yy) + 2 * phase)
            ], -1).astype(np.uint8)
            writer.write(bgr[..., ::-1].copy() if codec == 'h264' else bgr)
            cv2.imwrite(osp.join(frame_dir, f'img_{i + 1:05}.jpg'), bgr,
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
        if codec == 'h264':
            writer.close()
        else:
            writer.release()
        items.append((video, frame_dir))
    return items


def decode_steps(source: str, **sampling) -> List[dict]:
    """SampleFrames 32x2 (``sampling``: ``num_clips``, ``test_mode``) and
    the decoding of ``source``: DecordInit + DecordDecode for 'video',
    RawFrameDecode for 'rawframes'."""
    sample = dict(type='SampleFrames', clip_len=32, frame_interval=2,
                  **sampling)
    if source == 'video':
        return [dict(type='DecordInit'), sample, dict(type='DecordDecode')]
    return [sample, dict(type='RawFrameDecode')]


PACK_STEPS = [dict(type='FormatShape', input_format='NCTHW'),
              dict(type='PackActionInputs')]


def train_pipeline(source: str, lazy: bool) -> Compose:
    """mmaction2's I3D 32x2x1 train pipeline (1.x packing)."""
    spatial = [
        dict(type='Resize', scale=(-1, 256), lazy=lazy),
        dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.8),
             random_crop=False, max_wh_scale_gap=0, lazy=lazy),
        dict(type='Resize', scale=(224, 224), keep_ratio=False, lazy=lazy),
        dict(type='Flip', flip_ratio=0.5, lazy=lazy),
    ] + ([dict(type='Fuse')] if lazy else [])
    return Compose(decode_steps(source, num_clips=1) + spatial + PACK_STEPS)


NO_LAZY_TEST = ('ThreeCrop has no lazy mode, so the test pipeline runs '
                'eager only')


def test_pipeline(source: str, lazy: bool = False) -> Compose:
    """mmaction2's I3D 32x2x1 test pipeline (1.x packing): 10 clips x 3
    crops per video. Eager only (``lazy=True`` raises ValueError)."""
    if lazy:
        raise ValueError(NO_LAZY_TEST)
    spatial = [dict(type='Resize', scale=(-1, 256)),
               dict(type='ThreeCrop', crop_size=256)]
    return Compose(decode_steps(source, num_clips=10, test_mode=True) +
                   spatial + PACK_STEPS)


class Protocol(NamedTuple):
    """What one ``--pipeline`` choice measures: its builder
    ``build(source, lazy)``, the (source, lazy) configurations it runs, the
    shape of one sample's ``inputs``, what one sample is (``noun``: the rate
    is ``noun``/s, the JSON keys ``noun`` and ``noun_per_s``), a one-line
    description of the sample and why there are no lazy configurations
    (None where there are)."""
    build: Callable[[str, bool], Compose]
    configs: Tuple[Tuple[str, bool], ...]
    shape: Tuple[int, ...]
    noun: str
    sample: str
    no_lazy: Optional[str] = None

    @property
    def unit(self) -> str:
        return f'{self.noun}/s'

    @property
    def rate_key(self) -> str:
        return f'{self.noun}_per_s'

    @property
    def per_sample(self) -> str:
        """``'ms/clip'`` or ``'ms/video'``: the unit of a time per sample."""
        return f'ms/{self.noun[:-1]}'

    def select(self, sources: Sequence[str],
               eager_only: bool = False) -> Tuple[Tuple[str, bool], ...]:
        """The configurations of ``sources`` (eager ones only if
        ``eager_only``), in the order of :attr:`configs`."""
        return tuple((source, lazy) for source, lazy in self.configs
                     if source in sources and not (eager_only and lazy))


PROTOCOLS = dict(
    train=Protocol(train_pipeline, CONFIGS, CLIP_SHAPE, 'clips',
                   'one sample = 1 clip of 3x32x224x224 per video'),
    test=Protocol(test_pipeline, CONFIGS[::2], TEST_SHAPE, 'videos',
                  'one sample = 1 video: 10 clips x 3 crops = 30 views of '
                  '3x32x256x256', NO_LAZY_TEST))


def make_sample(item, source: str, num_frames: int, seed: int) -> dict:
    video, frame_dir = item
    rng = np.random.default_rng(seed)
    if source == 'video':
        return dict(filename=video, start_index=0, label=0, rng=rng)
    return dict(frame_dir=frame_dir, total_frames=num_frames, start_index=1,
                filename_tmpl='img_{:05}.jpg', offset=0, label=0, rng=rng)


class PipelineDataset(Dataset):
    """Each item runs the pipeline (``PROTOCOLS[pipeline]``) on one video
    (or its rawframes)."""

    def __init__(self, items, source, lazy, num_frames, rounds,
                 pipeline='train'):
        self.items, self.source, self.lazy = items, source, lazy
        self.num_frames, self.rounds = num_frames, rounds
        self.shape = PROTOCOLS[pipeline].shape
        self.pipeline = PROTOCOLS[pipeline].build(source, lazy)

    def __len__(self):
        return len(self.items) * self.rounds

    def __getitem__(self, index):
        sample = make_sample(self.items[index % len(self.items)], self.source,
                             self.num_frames, index)
        return self.pipeline(sample)['inputs']


class TimedPipeline:
    """Calls the transforms of a ``Compose`` in turn as it does (stopping
    at one that returns None) and adds each one's seconds
    (``perf_counter()`` around its call) to :attr:`seconds`, the whole
    chain's to :attr:`total` and one to :attr:`samples` per call."""

    def __init__(self, pipeline: Compose):
        self.transforms = list(pipeline.transforms)
        self.names = [type(t).__name__ for t in self.transforms]
        self.seconds = [0.0] * len(self.transforms)
        self.total, self.samples = 0.0, 0

    def __call__(self, data: dict) -> Optional[dict]:
        start = time.perf_counter()
        for index, transform in enumerate(self.transforms):
            begin = time.perf_counter()
            data = transform(data)
            self.seconds[index] += time.perf_counter() - begin
            if data is None:
                break
        self.total += time.perf_counter() - start
        self.samples += 1
        return data

    def breakdown(self) -> dict:
        """``{samples, total_ms, transforms: [{name, ms, share}]}``: the ms
        per sample of the chain and of each transform (pipeline order) and
        each one's share of the chain's time."""
        per_sample = 1e3 / max(self.samples, 1)
        return dict(samples=self.samples, total_ms=self.total * per_sample,
                    transforms=[dict(name=name, ms=seconds * per_sample,
                                     share=ratio(seconds, self.total))
                                for name, seconds in zip(self.names,
                                                         self.seconds)])


def pipeline_calls(items: list, num_frames: int, pipeline: str = 'train',
                   pipelines: Optional[Dict[Tuple[str, bool],
                                            Callable]] = None) -> dict:
    """Per configuration, a call that runs its pipeline on the next sample
    (the videos in turn, seeded with the sample's index) and checks the
    shape of its inputs. ``pipelines``: ``{(source, lazy): pipeline}``;
    by default every configuration of ``PROTOCOLS[pipeline]``, built."""
    protocol = PROTOCOLS[pipeline]
    if pipelines is None:
        pipelines = {c: protocol.build(*c) for c in protocol.configs}

    def call(config) -> Callable[[], None]:
        run_pipeline = pipelines[config]
        indices = itertools.count()

        def run():
            index = next(indices)
            sample = make_sample(items[index % len(items)], config[0],
                                 num_frames, index)
            assert run_pipeline(sample)['inputs'].shape == protocol.shape

        return run

    return {config: call(config) for config in pipelines}


def interleaved_rates(items: list, num_frames: int, rounds: int,
                      pipeline: str = 'train',
                      sources: Sequence[str] = ('video', 'rawframes')
                      ) -> dict:
    """Samples/s (clips/s for train, videos/s for test) of each
    configuration of ``sources``, timed sample by sample in turn."""
    protocol = PROTOCOLS[pipeline]
    pipelines = {c: protocol.build(*c) for c in protocol.select(sources)}
    times = interleaved_times(
        pipeline_calls(items, num_frames, pipeline, pipelines),
        len(items) * rounds, warmup=0)
    return {config: len(t) / sum(t) for config, t in times.items()}


def per_transform(items: list, num_frames: int, rounds: int,
                  pipeline: str = 'train',
                  sources: Sequence[str] = ('video', 'rawframes')
                  ) -> List[dict]:
    """The eager configurations of ``sources`` run transform by transform
    (:class:`TimedPipeline`), interleaved sample by sample, every video
    ``rounds`` times. Returns per configuration ``{source, mode, <rate
    key>, samples, total_ms, transforms}`` (:meth:`TimedPipeline.breakdown`;
    the rate: samples / the chain's seconds)."""
    protocol = PROTOCOLS[pipeline]
    timed = {c: TimedPipeline(protocol.build(*c))
             for c in protocol.select(sources, eager_only=True)}
    interleaved_times(pipeline_calls(items, num_frames, pipeline, timed),
                      len(items) * rounds, warmup=0)
    return [dict(source=source, mode='eager',
                 **{protocol.rate_key: ratio(t.samples, t.total)},
                 **t.breakdown())
            for (source, _), t in timed.items()]


def lazy_over_eager(rates: dict) -> dict:
    """Returns ``{source: lazy rate / eager rate}`` of ``{(source, lazy):
    rate}``, for the sources measured both ways (none for the test
    pipeline)."""
    return {source: ratio(rates[source, True], rates[source, False])
            for source in ('video', 'rawframes')
            if (source, True) in rates and (source, False) in rates}


def samples_per_second(dataset: PipelineDataset, workers: int) -> float:
    """Samples/s of one pass over ``dataset`` through a DataLoader with
    ``workers`` workers, checking each sample's shape."""
    loader = DataLoader(dataset, batch_size=None, num_workers=workers,
                        shuffle=False)
    start = time.perf_counter()
    count = 0
    for inputs in loader:
        assert inputs.shape == dataset.shape
        count += 1
    return count / (time.perf_counter() - start)


def describe_data(settings: dict) -> str:
    """The data of a run: the generated videos and rawframes, or the
    folder's videos (how many, their sizes and frame counts)."""
    s = settings
    if s.get('video_dir') is None:
        codec = {'h264': 'H.264 x264 defaults', 'mp4v': 'mp4v'}[
            s.get('codec', 'mp4v')]
        return (f'{s["videos"]} videos x {s["frames"]} frames at '
                f'{s["width"]}x{s["height"]} ({codec} / JPEG q95)')
    sizes = sorted({f'{v["width"]}x{v["height"]}' for v in s['video_files']})
    frames = [v['frames'] for v in s['video_files']]
    counts = f'{min(frames)}' if min(frames) == max(frames) else \
        f'{min(frames)}-{max(frames)}'
    return (f'{s["videos"]} videos of {s["video_dir"]} ({", ".join(sizes)}, '
            f'{counts} frames; video only, no rawframes)')


def report_per_transform(rows: List[dict], protocol: Protocol) -> None:
    """Print, per eager configuration, the pipeline's rate and time per
    sample and each transform's time per sample and share of it."""
    unit = protocol.per_sample
    print(f'per transform (eager, transforms timed one by one, '
          f'{unit} and share of the pipeline\'s time):')
    for row in rows:
        print(f'{row["source"]} eager: {row[protocol.rate_key]:.2f} '
              f'{protocol.unit}, {fmt_ms(row["total_ms"])} {unit} over '
              f'{row["samples"]} samples')
        print(f'  {"transform":18s} {unit:>10s} {"share":>7s}')
        for t in row['transforms']:
            print(f'  {t["name"]:18s} {t["ms"]:10.2f} {t["share"]:7.1%}')
        print(f'  {"sum":18s} {sum(t["ms"] for t in row["transforms"]):10.2f}'
              f' {sum(t["share"] for t in row["transforms"]):7.1%}')


def report(result: dict) -> None:
    """Print the settings, the table, the lazy / eager ratios (or, for a
    pipeline without lazy configurations, why there are none) and the
    per-transform tables."""
    m, s = result['machine'], result['settings']
    protocol = PROTOCOLS[s['pipeline']]
    print(f'I3D 32x2x1 {s["pipeline"]} pipeline, {describe_data(s)}, '
          f'{s["rounds"]} rounds, workers={s["workers"]}, torch '
          f'{m["torch"]}, opencv {m["opencv"]}; {s["unit"]} '
          f'({protocol.sample})')
    print(f'{"source":10s} {"mode":6s} {s["unit"]:>8s} '
          f'{"vs eager video":>15s}')
    for row in result['results']:
        print(f'{row["source"]:10s} {row["mode"]:6s} '
              f'{row[protocol.rate_key]:8.2f} {fmt_ratio(row["ratio"]):>15}')
    if protocol.no_lazy:
        print(f'no lazy configurations: {protocol.no_lazy}')
    for source, gain in result.get('lazy_over_eager', {}).items():
        print(f'lazy / eager ({source}): {fmt_ratio(gain)}')
    report_per_transform(result['per_transform'], protocol)


def main(argv: Optional[List[str]] = None) -> dict:
    """Run the benchmark, print it and return the figures (JSON-ready)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pipeline', choices=tuple(PROTOCOLS),
                        default='train',
                        help='train: clips/s, eager and lazy; test: '
                        'videos/s (10 clips x 3 crops each), eager only')
    parser.add_argument('--videos', type=int,
                        help='generated videos (default 8)')
    parser.add_argument('--frames', type=int,
                        help='frames per generated video (default 150)')
    parser.add_argument('--rounds', type=int, default=4,
                        help='passes over the videos per configuration')
    parser.add_argument('--workers', type=int, default=0)
    parser.add_argument('--size', type=parse_size, metavar='WxH',
                        help='size of the generated videos (default '
                        f'{WIDTH}x{HEIGHT}; e.g. 1280x720)')
    parser.add_argument('--video-dir', metavar='DIR',
                        help='run on the videos of DIR (.mp4 .avi .mkv '
                        '.webm .mov, sorted) instead of generated ones: '
                        'video configurations only; not with --videos, '
                        '--frames or --size')
    parser.add_argument('--codec', choices=('h264', 'mp4v'),
                        help='codec of the generated videos (default h264 '
                        'where PyAV is installed, else mp4v)')
    parser.add_argument('--json', metavar='OUT',
                        help='also write the figures to this JSON file')
    args = parser.parse_args(argv)
    generated = {'--videos': args.videos, '--frames': args.frames,
                 '--size': args.size, '--codec': args.codec}
    given = [flag for flag, value in generated.items() if value is not None]
    if args.video_dir is not None and given:
        parser.error(f'--video-dir runs on the videos of the folder: '
                     f'{", ".join(given)} would be ignored; leave '
                     f'{"it" if len(given) == 1 else "them"} out')
    args.videos = 8 if args.videos is None else args.videos
    args.frames = 150 if args.frames is None else args.frames
    args.size = (WIDTH, HEIGHT) if args.size is None else args.size
    args.codec = default_codec() if args.codec is None else args.codec
    if args.codec == 'h264' and default_codec() != 'h264':
        parser.error("--codec h264 writes with PyAV: pip install av (or "
                     "'mmvid[pyav]'), or use --codec mp4v")
    protocol = PROTOCOLS[args.pipeline]
    settings = dict(pipeline=args.pipeline, unit=protocol.unit,
                    sample_shape=list(protocol.shape), videos=args.videos,
                    frames=args.frames, width=args.size[0],
                    height=args.size[1], rounds=args.rounds,
                    workers=args.workers, codec=args.codec)
    if args.video_dir is not None:
        try:
            videos = find_videos(args.video_dir)
        except ValueError as error:
            parser.error(str(error))
        settings.update(videos=len(videos), frames=None, width=None,
                        height=None, video_dir=args.video_dir,
                        video_files=describe_videos(videos))
    sources = ('video',) if args.video_dir else ('video', 'rawframes')
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as root:
        items = [(video, None) for video in videos] if args.video_dir else \
            write_data(root, args.videos, args.frames, args.size,
                       args.codec)
        # warm up file caches and imports once per source
        for source in sources:
            samples_per_second(
                PipelineDataset(items[:1], source, False, args.frames, 1,
                                args.pipeline), 0)
        if args.workers == 0:
            rates = interleaved_rates(items, args.frames, args.rounds,
                                      args.pipeline, sources)
        else:
            rates = {(source, lazy): samples_per_second(
                PipelineDataset(items, source, lazy, args.frames,
                                args.rounds, args.pipeline), args.workers)
                     for source, lazy in protocol.select(sources)}
        transforms = per_transform(items, args.frames, args.rounds,
                                   args.pipeline, sources)
    baseline = rates['video', False]
    rate_key = protocol.rate_key
    result = dict(
        machine=machine_with_libraries(),
        settings=settings,
        baseline={'source': 'video', 'mode': 'eager', rate_key: baseline},
        results=[{'source': source, 'mode': 'lazy' if lazy else 'eager',
                  rate_key: rate, 'ratio': ratio(rate, baseline)}
                 for (source, lazy), rate in rates.items()])
    if protocol.no_lazy:
        result['settings']['no_lazy'] = protocol.no_lazy
    else:
        result['lazy_over_eager'] = lazy_over_eager(rates)
    result['per_transform'] = transforms
    report(result)
    write_json(args.json, result)
    return result


if __name__ == '__main__':
    main()

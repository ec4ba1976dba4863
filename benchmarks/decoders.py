"""Video decoders on the same clips: ms per video and ratios against
decord's ``get_batch`` with one thread (mmaction2's ``DecordInit``
default), all measured in this run with the calls interleaved.

Decoders (each an ``*Init`` + ``*Decode`` pair of mmvid, built as a config
would build them):

* ``decord 1 thread``: ``DecordInit(num_threads=1)`` +
  ``DecordDecode(decoder='decord')``, what mmaction2 1.x runs;
* ``decord auto threads``: ``DecordInit()`` (``'auto'``) +
  ``DecordDecode(decoder='decord')``;
* ``DecordDecode default``: ``DecordInit()`` + ``DecordDecode()``: where
  PyAV is installed and the stream is 8-bit H.264 / VP9, the frames come
  from ``exact_seek`` (unwanted non-reference frames skipped), bit-identical
  to decord's;
* ``PyAVDecode``: ``PyAVInit()`` + ``PyAVDecode()`` (the same skipping
  decoder, slice threads);
* ``OpenCV 1 thread`` / ``OpenCV auto threads``: ``OpenCVInit(num_threads=
  1 | 0)`` + ``OpenCVDecode`` (FFmpeg inside OpenCV, its own conversion);
* ``torchcodec exact``: ``TorchCodecInit()`` + ``TorchCodecDecode()``, where
  torchcodec works (else the report says why it is not measured).

Clips: ``train``, one 32x2 clip per video at a random start (seeded), as
the I3D train pipeline samples; ``test``, the 10 clips of 32x2 of the test
pipeline (``SampleFrames(test_mode=True)``). Every decoder gets the same
indices. The frames of each decoder are compared with decord 1 thread's
(``identical`` column: all frames bit-equal, else the largest difference).

Data: ``--videos`` H.264 videos per ``--size`` (default 340x256 and
1280x720), written here with PyAV's libx264 at x264's defaults (key frame
every 250 frames, 3 B-frames), ``--frames`` frames at 30 fps of moving
texture with film grain; or ``--video-dir DIR`` (its .mp4/.avi/.mkv/.webm/
.mov files). Needs decord and PyAV (``pip install 'mmvid[decord,pyav]'``).

Example::

    python benchmarks/decoders.py
    python benchmarks/decoders.py --size 1280x720 --rounds 5
    python benchmarks/decoders.py --video-dir ~/kinetics/val_sample
"""
import argparse
import importlib
import os
import os.path as osp
import tempfile
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmvid.datasets.transforms import (DecordDecode, DecordInit,
                                       OpenCVDecode, OpenCVInit, PyAVDecode,
                                       PyAVInit, SampleFrames,
                                       TorchCodecDecode, TorchCodecInit)

from benchkit import (describe_cpu, fmt_ratio, interleaved_times,
                      machine_description, medians, ratio, write_json)
from data_pipeline import H264Writer, find_videos, parse_size

BASELINE = 'decord 1 thread'
DECODERS: Dict[str, Tuple[Callable, Callable]] = {
    BASELINE: (lambda: DecordInit(num_threads=1),
               lambda: DecordDecode(decoder='decord')),
    'decord auto threads': (DecordInit, lambda: DecordDecode(
        decoder='decord')),
    'DecordDecode default': (DecordInit, DecordDecode),
    'PyAVDecode': (PyAVInit, PyAVDecode),
    'OpenCV 1 thread': (lambda: OpenCVInit(num_threads=1), OpenCVDecode),
    'OpenCV auto threads': (lambda: OpenCVInit(num_threads=0),
                            OpenCVDecode),
}
OPTIONAL = {'torchcodec exact': (TorchCodecInit, TorchCodecDecode)}
CLIPS = ('train', 'test')
DEFAULT_SIZES = ((340, 256), (1280, 720))


def write_h264(path: str, size: Tuple[int, int], num_frames: int,
               seed: int) -> str:
    """An H.264 ``.mp4`` at x264's defaults (GOP 250, 3 B-frames), 30 fps:
    a texture drifting across the frame, with changing film grain."""
    width, height = size
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, (height // 8 + 2, width // 8 + 2, 3),
                           dtype=np.uint8)
    texture = np.kron(texture, np.ones((8, 8, 1), np.uint8))
    writer = H264Writer(path, size, fps=30)
    for i in range(num_frames):
        dy, dx = (i // 3) % 16, i % 16
        image = texture[dy:dy + height, dx:dx + width].astype(np.int16)
        image += rng.integers(-6, 7, image.shape, dtype=np.int16)
        writer.write(np.clip(image, 0, 255).astype(np.uint8))
    writer.close()
    return path


def add_optional_decoders() -> Dict[str, str]:
    """Add to ``DECODERS`` the optional decoders that build here; return
    ``{name: why not}`` for the others."""
    missing = {}
    for name, (make_init, make_decode) in OPTIONAL.items():
        try:
            make_init()
        except ImportError as error:
            missing[name] = str(error).split(':')[0]
            continue
        DECODERS[name] = (make_init, make_decode)
    return missing


def clip_indices(videos: Sequence[str], clips: str, seed: int
                 ) -> List[np.ndarray]:
    """Per video, the frame indices the I3D ``clips`` ('train' or 'test')
    pipeline samples (the reader's frame count from decord)."""
    sampler = SampleFrames(clip_len=32, frame_interval=2,
                           num_clips=1 if clips == 'train' else 10,
                           test_mode=clips == 'test')
    out = []
    for k, video in enumerate(videos):
        results = DecordInit(num_threads=1)(dict(filename=video))
        results.update(start_index=0, rng=np.random.default_rng(seed + k))
        out.append(np.asarray(sampler(results)['frame_inds']))
    return out


def decode_all(name: str, videos: Sequence[str],
               indices: Sequence[np.ndarray]) -> List[np.ndarray]:
    """The decoded ``[T, H, W, 3]`` frames of every video by decoder
    ``name``."""
    make_init, make_decode = DECODERS[name]
    init, decode = make_init(), make_decode()
    out = []
    for video, inds in zip(videos, indices):
        results = init(dict(filename=video))
        results['frame_inds'] = inds
        out.append(np.stack(decode(results)['imgs']))
    return out


def compare(frames: Sequence[np.ndarray], reference: Sequence[np.ndarray]
            ) -> int:
    """The largest absolute difference between two decoders' frames (0:
    identical)."""
    return max(int(np.abs(a.astype(np.int16) - b).max())
               for a, b in zip(frames, reference))


def measure(videos: Sequence[str], rounds: int, seed: int) -> List[dict]:
    """Rows ``{clips, decoder, ms_per_video, vs_baseline, max_diff}`` for
    both clip kinds, every decoder timed in turn (interleaved)."""
    rows = []
    for clips in CLIPS:
        indices = clip_indices(videos, clips, seed)
        reference = decode_all(BASELINE, videos, indices)
        calls = {name: (lambda n=name: decode_all(n, videos, indices))
                 for name in DECODERS}
        times = medians(interleaved_times(calls, repeats=rounds, warmup=1))
        for name in DECODERS:
            rows.append(dict(
                clips=clips, decoder=name,
                ms_per_video=1000 * times[name] / len(videos),
                vs_baseline=ratio(times[BASELINE], times[name]),
                max_diff=compare(decode_all(name, videos, indices),
                                 reference)))
    return rows


def describe(videos: Sequence[str]) -> str:
    """``N videos, WxH, F frames, codec`` of a set (PyAV's view)."""
    import av
    sizes, frames, codecs = set(), [], set()
    for video in videos:
        with av.open(video) as container:
            stream = container.streams.video[0]
            sizes.add(f'{stream.codec_context.width}x'
                      f'{stream.codec_context.height}')
            frames.append(stream.frames)
            codecs.add(stream.codec_context.name)
    return (f'{len(videos)} videos, {", ".join(sorted(sizes))}, '
            f'{min(frames)}-{max(frames)} frames, {", ".join(sorted(codecs))}')


def report(result: dict) -> None:
    print(f'video decoders, ms per video (ratio: {BASELINE} time / this '
          f'time), {result["rounds"]} rounds interleaved; '
          f'{describe_cpu(result["machine"])}')
    for name, why in result['not_measured'].items():
        print(f'not measured: {name} ({why})')
    for group in result['groups']:
        print(f'\n{group["data"]}')
        print(f'  {"decoder":22s} {"train 32x2":>11s} {"ratio":>6s} '
              f'{"test 10x32x2":>13s} {"ratio":>6s}  identical to '
              f'{BASELINE}')
        by = {(r['clips'], r['decoder']): r for r in group['rows']}
        for name in DECODERS:
            train, test = by['train', name], by['test', name]
            diff = max(train['max_diff'], test['max_diff'])
            same = 'yes' if diff == 0 else f'no (max diff {diff})'
            print(f'  {name:22s} {train["ms_per_video"]:9.1f}ms '
                  f'{fmt_ratio(train["vs_baseline"]):>6s} '
                  f'{test["ms_per_video"]:11.1f}ms '
                  f'{fmt_ratio(test["vs_baseline"]):>6s}  {same}')


def main(argv: Optional[List[str]] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=parse_size, action='append',
                        metavar='WxH', help='size of the generated videos; '
                        'repeat for several (default 340x256 and 1280x720)')
    parser.add_argument('--videos', type=int, default=3,
                        help='generated videos per size')
    parser.add_argument('--frames', type=int, default=300,
                        help='frames per generated video (30 fps)')
    parser.add_argument('--video-dir', metavar='DIR',
                        help='decode the videos of DIR instead')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', metavar='OUT')
    args = parser.parse_args(argv)
    if args.video_dir and args.size:
        parser.error('--video-dir decodes the videos of the folder: leave '
                     '--size out')
    if args.frames < 64:
        parser.error(f'--frames must be >= 64 (one 32x2 clip), got '
                     f'{args.frames}')
    try:
        for name in ('av', 'decord'):  # only whether they import
            importlib.import_module(name)
    except ImportError as error:
        parser.error(f'needs decord and PyAV ({error}): pip install '
                     "'mmvid[decord,pyav]'")
    result = dict(machine=machine_description(), rounds=args.rounds,
                  not_measured=add_optional_decoders(), groups=[])
    with tempfile.TemporaryDirectory() as root:
        if args.video_dir:
            try:
                sets = [find_videos(args.video_dir)]
            except ValueError as error:
                parser.error(str(error))
        else:
            sets = []
            for width, height in args.size or DEFAULT_SIZES:
                sets.append([write_h264(
                    osp.join(root, f'{width}x{height}_{v}.mp4'),
                    (width, height), args.frames, args.seed + v)
                    for v in range(args.videos)])
        for videos in sets:
            data = describe(videos)
            if args.video_dir:
                data = f'{osp.abspath(args.video_dir)}: {data}'
            result['groups'].append(dict(
                data=data, rows=measure(videos, args.rounds, args.seed)))
    report(result)
    write_json(args.json, result)
    return result


if __name__ == '__main__':
    os.environ.setdefault('PYTHONWARNINGS', 'ignore')
    main()

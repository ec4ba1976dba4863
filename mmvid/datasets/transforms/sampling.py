"""Frame samplers: choose which frames of a video a sample reads.

The index rules are in ``frame_indices.py``; these transforms validate
their arguments and the sample, draw from the sample's generator and write
the contract keys: ``frame_inds`` (1-D int64, ``+ start_index``),
``clip_len``, ``frame_interval`` and ``num_clips``. ``num_clips`` is the
configured number of clips, not multiplied by ``twice_sample`` or by the
dense sample positions (``FormatShape`` folds the extra clips into the
views).
"""
from numbers import Integral
from typing import Any

import numpy as np

from mmvid.registry import TRANSFORMS
from ..errors import BadSampleError
from .arg_checks import accepts_aliases, check_choice
from .base import VideoTransform, sample_rng
from .frame_indices import (OUT_OF_BOUND_OPTS, SPACINGS, clip_frame_indices,
                            dense_clip_offsets, testing_clip_offsets,
                            train_clip_offsets, untrimmed_frame_indices)


def check_positive_int(name: str, value: Any) -> int:
    """``value`` as an int, or ``TypeError``/``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f'{name} must be a positive int, got '
                        f'{type(value).__name__} {value!r}')
    if value < 1:
        raise ValueError(f'{name} must be a positive int, got {value}')
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is a bool, else ``TypeError`` naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f'{name} must be True or False, got '
                        f'{type(value).__name__} {value!r}')
    return bool(value)


def sample_source(results: dict) -> str:
    """The sample's file or frame folder, for error messages."""
    return (results.get('filename') or results.get('frame_dir')
            or f"sample {results.get('sample_idx', '?')}")


class ClipSampler(VideoTransform):
    """Shared checks and output of the samplers."""

    required_keys = ('total_frames', 'start_index')
    added_keys = ('frame_inds', 'clip_len', 'frame_interval', 'num_clips')

    def video_length(self, results: dict) -> int:
        """``results['total_frames']``, checked.

        Raises:
            TypeError: ``total_frames`` or ``start_index`` is not an int.
            BadSampleError: The video has no frames.
        """
        name = type(self).__name__
        for key in ('total_frames', 'start_index'):
            value = results[key]
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise TypeError(f"{name}: results['{key}'] must be an int, "
                                f'got {type(value).__name__} {value!r}')
        total_frames = int(results['total_frames'])
        if total_frames < 1:
            raise BadSampleError(f'{name}: {sample_source(results)} has '
                                 f'total_frames={total_frames}; there is '
                                 'no frame to sample')
        return total_frames

    def store(self, results: dict, inds: np.ndarray, num_clips: int) -> dict:
        results['frame_inds'] = (inds + int(results['start_index'])).astype(
            np.int64)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = self.frame_interval
        results['num_clips'] = num_clips
        return results


@TRANSFORMS.register_module()
class SampleFrames(ClipSampler):
    """Sample ``num_clips`` clips of ``clip_len`` frames ``frame_interval``
    apart.

    Train mode draws one random clip per segment of the video
    (``frame_indices.train_clip_offsets``); test mode spaces the clips
    deterministically (``frame_indices.testing_clip_offsets``):
    ``test_spacing='centre'`` reproduces mmaction2 0.x (segment centres,
    the default), ``'uniform'`` mmaction2 1.x / PySlowFast (first to last
    possible clip). Indices past the end loop back to the start
    (``'loop'``) or repeat the clip's last frame (``'repeat_last'``).

    Example: 300 rawframes, ``clip_len=32, frame_interval=2, num_clips=10,
    test_mode=True`` reads clips starting at frames 12, 36, 60, 83, 107,
    131, 155, 178, 202, 226.

    Required keys: ``total_frames``, ``start_index`` (``rng`` if present).

    Added keys: ``frame_inds`` (int64 ``[num_clips * clip_len]``, or
    ``[2 * num_clips * clip_len]`` with ``twice_sample``, ``+ start_index``),
    ``clip_len``, ``frame_interval``, ``num_clips`` (not doubled).

    Args:
        clip_len: Frames per clip.
        frame_interval: Step between the frames of a clip.
        num_clips: Clips per sample.
        temporal_jitter: Shift each frame by a random ``[0, frame_interval)``.
        twice_sample: Test mode only: add the ``num_clips`` segment-start
            clips after the centred ones (``2 * num_clips`` clips).
        out_of_bound_opt: ``'loop'`` or ``'repeat_last'``.
        test_mode: Deterministic test sampling instead of random.
        keep_tail_frames: Train mode only: float-sized segments, so the last
            frames can be sampled.
        test_spacing: ``'centre'`` (mmaction2 0.x) or ``'uniform'`` (1.x);
            used in test mode.

    Raises:
        TypeError / ValueError: An argument of the wrong type or value,
            ``twice_sample`` or ``keep_tail_frames`` without / with
            ``test_mode``, or ``twice_sample`` with ``test_spacing='uniform'``
            and ``clip_len > 1``.
    """

    def __init__(self,
                 clip_len: int,
                 frame_interval: int = 1,
                 num_clips: int = 1,
                 temporal_jitter: bool = False,
                 twice_sample: bool = False,
                 out_of_bound_opt: str = 'loop',
                 test_mode: bool = False,
                 keep_tail_frames: bool = False,
                 test_spacing: str = 'centre') -> None:
        self.clip_len = check_positive_int('clip_len', clip_len)
        self.frame_interval = check_positive_int('frame_interval',
                                                 frame_interval)
        self.num_clips = check_positive_int('num_clips', num_clips)
        self.temporal_jitter = check_bool('temporal_jitter', temporal_jitter)
        self.twice_sample = check_bool('twice_sample', twice_sample)
        self.out_of_bound_opt = check_choice('out_of_bound_opt',
                                             out_of_bound_opt,
                                             OUT_OF_BOUND_OPTS)
        self.test_mode = check_bool('test_mode', test_mode)
        self.keep_tail_frames = check_bool('keep_tail_frames',
                                           keep_tail_frames)
        self.test_spacing = check_choice('test_spacing', test_spacing,
                                         SPACINGS)
        if self.twice_sample and not self.test_mode:
            raise ValueError('twice_sample=True is a test-time option; set '
                             'test_mode=True or drop twice_sample')
        if self.keep_tail_frames and self.test_mode:
            raise ValueError('keep_tail_frames=True is a training option; '
                             'drop it or set test_mode=False')
        if (self.twice_sample and self.test_spacing == 'uniform'
                and self.clip_len > 1):
            raise ValueError("twice_sample=True needs test_spacing='centre' "
                             "(or clip_len=1); test_spacing='uniform' "
                             'already spans the whole video')

    def transform(self, results: dict) -> dict:
        total_frames = self.video_length(results)
        rng = sample_rng(results)
        if self.test_mode:
            offsets = testing_clip_offsets(total_frames, self.clip_len,
                                        self.frame_interval, self.num_clips,
                                        self.test_spacing, self.twice_sample)
        else:
            offsets = train_clip_offsets(total_frames, self.clip_len,
                                         self.frame_interval, self.num_clips,
                                         rng, self.keep_tail_frames)
        inds = clip_frame_indices(offsets, self.clip_len, self.frame_interval,
                                  total_frames, self.out_of_bound_opt,
                                  self.temporal_jitter, rng)
        return self.store(results, inds, self.num_clips)


@TRANSFORMS.register_module()
class DenseSampleFrames(ClipSampler):
    """Sample ``num_clips`` clips spread ``sample_range // num_clips`` frames
    apart inside a window of ``sample_range`` frames
    (``frame_indices.dense_clip_offsets``).

    Train mode draws one window start; test mode takes
    ``num_sample_positions`` evenly spaced window starts, so a test sample
    has ``num_sample_positions * num_clips`` clips.

    Example: 300 rawframes, ``clip_len=32, frame_interval=2, num_clips=1,
    test_mode=True`` reads 10 clips starting at frames 1, 27, 53, 79, 105,
    132, 158, 184, 210, 237.

    Required keys: ``total_frames``, ``start_index`` (``rng`` if present).

    Added keys: ``frame_inds`` (int64, ``+ start_index``), ``clip_len``,
    ``frame_interval``, ``num_clips`` (not multiplied by the positions).

    Args:
        clip_len: Frames per clip.
        frame_interval: Step between the frames of a clip.
        num_clips: Clips per window.
        sample_range: Window length in frames; at least ``num_clips``.
        num_sample_positions: Window starts in test mode.
        temporal_jitter: Shift each frame by a random ``[0, frame_interval)``.
        out_of_bound_opt: ``'loop'`` or ``'repeat_last'``.
        test_mode: Deterministic window starts.
    """

    def __init__(self,
                 clip_len: int,
                 frame_interval: int = 1,
                 num_clips: int = 1,
                 sample_range: int = 64,
                 num_sample_positions: int = 10,
                 temporal_jitter: bool = False,
                 out_of_bound_opt: str = 'loop',
                 test_mode: bool = False) -> None:
        self.clip_len = check_positive_int('clip_len', clip_len)
        self.frame_interval = check_positive_int('frame_interval',
                                                 frame_interval)
        self.num_clips = check_positive_int('num_clips', num_clips)
        self.sample_range = check_positive_int('sample_range', sample_range)
        self.num_sample_positions = check_positive_int(
            'num_sample_positions', num_sample_positions)
        self.temporal_jitter = check_bool('temporal_jitter', temporal_jitter)
        self.out_of_bound_opt = check_choice('out_of_bound_opt',
                                             out_of_bound_opt,
                                             OUT_OF_BOUND_OPTS)
        self.test_mode = check_bool('test_mode', test_mode)
        if self.sample_range < self.num_clips:
            raise ValueError(
                f'sample_range ({self.sample_range}) must be at least '
                f'num_clips ({self.num_clips}): the clips are '
                'sample_range // num_clips frames apart')

    def transform(self, results: dict) -> dict:
        total_frames = self.video_length(results)
        rng = sample_rng(results)
        offsets = dense_clip_offsets(total_frames, self.num_clips,
                                     self.sample_range,
                                     self.num_sample_positions, self.test_mode,
                                     rng)
        inds = clip_frame_indices(offsets, self.clip_len, self.frame_interval,
                                  total_frames, self.out_of_bound_opt,
                                  self.temporal_jitter, rng)
        return self.store(results, inds, self.num_clips)


@TRANSFORMS.register_module()
@accepts_aliases(clip_interval='frame_interval')
class UntrimmedSampleFrames(ClipSampler):
    """Sample a clip of ``clip_len`` consecutive frames every
    ``frame_interval`` frames over the whole video (feature extraction on
    untrimmed videos; ``frame_indices.untrimmed_frame_indices``).

    The clips are centred on frames ``frame_interval // 2``,
    ``frame_interval // 2 + frame_interval``, ... and clipped to the video.

    Required keys: ``total_frames``, ``start_index``.

    Added keys: ``frame_inds`` (int64, ``+ start_index``), ``clip_len``,
    ``frame_interval`` (the step between clip centres), ``num_clips`` (the
    number of centres).

    Args:
        clip_len: Consecutive frames per clip.
        frame_interval: Frames between clip centres (mmaction2 0.x's name;
            1.x's ``clip_interval`` is accepted for it).

    Raises (at call time):
        BadSampleError: The video has ``frame_interval // 2`` frames or
            fewer, so no clip centre falls inside it.
    """

    def __init__(self, clip_len: int = 1, frame_interval: int = 16) -> None:
        self.clip_len = check_positive_int('clip_len', clip_len)
        self.frame_interval = check_positive_int('frame_interval',
                                                 frame_interval)

    def transform(self, results: dict) -> dict:
        total_frames = self.video_length(results)
        inds = untrimmed_frame_indices(total_frames, self.clip_len,
                                       self.frame_interval)
        if inds.size == 0:
            raise BadSampleError(
                f'UntrimmedSampleFrames: {sample_source(results)} has '
                f'{total_frames} frames; the first clip centre is frame '
                f'{self.frame_interval // 2} (frame_interval='
                f'{self.frame_interval})')
        return self.store(results, inds, inds.size // self.clip_len)

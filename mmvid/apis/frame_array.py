"""Frames already in memory as a pipeline input: a ``[T, H, W, 3]`` uint8
RGB array (or a list of ``[H, W, 3]`` frames), e.g. the last frames of a
webcam or one window of a long video.

:func:`frames_sample` makes the pipeline input dict (``frame_array``,
``total_frames``, ``start_index`` 0); in a config's test pipeline the video
reader (``*Init``) is dropped and the decoder (``*Decode`` or
``RawFrameDecode``) becomes :class:`FrameArrayDecode`, so the sampler, the
geometry and the packing are the config's own.
"""
from typing import Sequence, Union

import numpy as np

from mmvid.datasets.transforms.base import VideoTransform
from mmvid.datasets.transforms.decode_utils import (frames_in_order,
                                                    set_frame_outputs,
                                                    unique_frame_inds)

FRAME_ARRAY_SOURCE = '<in-memory frames>'


def frame_array(frames: Union[np.ndarray, Sequence[np.ndarray]]
                ) -> np.ndarray:
    """``frames`` as one ``[T, H, W, 3]`` uint8 array (a list is stacked).

    Raises:
        ValueError: no frames, frames of different sizes, not ``[T, H, W,
            3]``, or not uint8 (the message says which).
    """
    if not isinstance(frames, np.ndarray):
        frames = list(frames)
        if not frames:
            raise ValueError('no frames: give at least one [H, W, 3] frame')
        shapes = {np.shape(f) for f in frames}
        if len(shapes) > 1:
            raise ValueError(f'frames of different shapes: {sorted(shapes)}')
        frames = np.stack(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError('frames must be [T, H, W, 3] RGB with T >= 1, got '
                         f'shape {frames.shape}')
    if frames.dtype != np.uint8:
        raise ValueError(f'frames must be uint8, got {frames.dtype}')
    return frames


def frames_sample(frames: Union[np.ndarray, Sequence[np.ndarray]]) -> dict:
    """The pipeline input of in-memory frames: ``frame_array`` ``[T, H, W,
    3]``, ``total_frames`` T, ``start_index`` 0, ``modality`` ``'RGB'``."""
    array = frame_array(frames)
    return dict(frame_array=array, total_frames=int(array.shape[0]),
                start_index=0, modality='RGB')


class FrameArrayDecode(VideoTransform):
    """Take the frames ``frame_inds`` of ``frame_array`` (the decoder of
    in-memory frames; repeated indices get copies, as in the decoders).

    Required keys: ``frame_array`` (``[T, H, W, 3]`` uint8), ``frame_inds``,
    ``total_frames``.

    Added keys: ``imgs`` (list of ``[H, W, 3]`` uint8 RGB in ``frame_inds``
    order), ``original_shape``, ``img_shape``; ``frame_array`` is removed.
    """
    required_keys = ('frame_array', 'frame_inds', 'total_frames')
    added_keys = ('imgs', 'original_shape', 'img_shape')

    def transform(self, results: dict) -> dict:
        array = results.pop('frame_array')
        unique, inverse = unique_frame_inds(
            results['frame_inds'], FRAME_ARRAY_SOURCE, 'FrameArrayDecode',
            results['total_frames'])
        frames = [array[i].copy() for i in unique.tolist()]
        return set_frame_outputs(results, frames_in_order(frames, inverse))

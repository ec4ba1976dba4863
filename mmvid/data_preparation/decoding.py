"""Decode every frame of a video with decord or OpenCV (used by the data
tools; the training pipeline has its own decoders)."""
import os.path as osp
import re
from typing import Iterator

import cv2
import numpy as np

from mmvid.datasets.errors import BadSampleError
from mmvid.datasets.transforms.decord_decode import import_decord

BACKENDS = ('decord', 'opencv')


def check_backend(backend: str) -> str:
    """``backend`` checked to be 'decord' or 'opencv'."""
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got '
                         f'{backend!r}')
    return backend


def clean_decoder_message(message: str) -> str:
    """decord's error text without its ``[time] file.cc:line:`` prefixes."""
    message = re.sub(r'\[\d\d:\d\d:\d\d\] \S+:\d+: ', '', str(message))
    return ' '.join(message.split())


def iter_frames(video_path: str,
                backend: str = 'decord') -> Iterator[np.ndarray]:
    """Decode every frame of a video in order.

    Yields:
        np.ndarray: uint8 [H, W, 3] BGR frames.

    Raises:
        BadSampleError: The file is missing, cannot be opened, or a frame
            cannot be decoded (the message names the file, the frame and
            the backend).
    """
    check_backend(backend)
    if not osp.isfile(video_path):
        raise BadSampleError(f'video {video_path} does not exist')
    if backend == 'decord':
        decord = import_decord()
        try:
            reader = decord.VideoReader(video_path, num_threads=1)
        except Exception as e:  # decord raises RuntimeError / DECORDError
            raise BadSampleError(
                f'decord could not open {video_path}: '
                f'{clean_decoder_message(e)}') from e
        for index in range(len(reader)):
            try:
                frame = reader.next().asnumpy()
            except StopIteration:
                raise BadSampleError(
                    f'decord decoded only {index} of the {len(reader)} '
                    f'frames of {video_path}') from None
            except Exception as e:
                # the decoder thread runs ahead: the bad packet is at or
                # after frame ``index``
                raise BadSampleError(
                    f'decord failed after decoding {index} of the '
                    f'{len(reader)} frames of {video_path}: '
                    f'{clean_decoder_message(e)}') from e
            yield cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
    else:
        capture = cv2.VideoCapture(video_path)
        try:
            if not capture.isOpened():
                raise BadSampleError(f'opencv could not open {video_path}')
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                yield frame
        finally:
            capture.release()

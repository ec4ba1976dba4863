"""Video decoding with OpenCV's FFmpeg backend: ``OpenCVInit`` opens the
file, ``OpenCVDecode`` reads the sampled frames.

Importing this module changes no OpenCV state. The reader's FFmpeg decoder
gets ``num_threads`` threads (``CAP_PROP_N_THREADS``; FFmpeg otherwise uses
one per core in every loader worker). OpenCV's own thread pool is set
process-wide by ``threads.limit_decoder_threads`` in each loader worker.
"""
from typing import Any, List, Tuple

import cv2
import numpy as np

from mmvid.registry import TRANSFORMS
from ..errors import BadSampleError
from .decode_utils import VideoReaderDecode, VideoReaderInit

BACKEND = 'OpenCV'


def _release(reader: Any) -> None:
    """Close a ``cv2.VideoCapture``."""
    reader.release()


@TRANSFORMS.register_module()
class OpenCVInit(VideoReaderInit):
    """Open ``results['filename']`` with ``cv2.VideoCapture`` (FFmpeg).

    Required keys: ``filename``.

    Added keys: ``video_reader`` (the open ``cv2.VideoCapture``),
    ``total_frames`` (int > 0, the container's frame count), ``avg_fps``
    (float).

    Args:
        num_threads: FFmpeg decoding threads of the reader (0: FFmpeg picks,
            one per core). Needs OpenCV >= 4.7 (``CAP_PROP_N_THREADS``);
            older versions ignore it.

    Raises:
        RuntimeError: (at construction) this OpenCV has no FFmpeg backend.
        BadSampleError: the file is missing or empty, OpenCV cannot open it
            (not a video, truncated) or reports no frames.
    """
    backend = BACKEND

    def __init__(self, num_threads: int = 1):
        super().__init__(num_threads)
        if not cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
            raise RuntimeError(
                f'OpenCV {cv2.__version__} was built without the FFmpeg '
                'video backend; install opencv-python(-headless) from PyPI '
                'or use DecordInit / PyAVInit')

    def _open_reader(self, path: str) -> Tuple[Any, int]:
        threads_prop = getattr(cv2, 'CAP_PROP_N_THREADS', None)  # >= 4.7
        if threads_prop is None:
            reader = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
        else:
            reader = cv2.VideoCapture(path, cv2.CAP_FFMPEG,
                                      [threads_prop, self.reader_threads()])
        if not reader.isOpened():
            raise BadSampleError(
                f'OpenCV could not open {path} as a video (not a video file, '
                'or truncated)')
        return reader, int(reader.get(cv2.CAP_PROP_FRAME_COUNT))

    def _avg_fps(self, reader: Any) -> float:
        return float(reader.get(cv2.CAP_PROP_FPS))

    _close_reader = staticmethod(_release)


@TRANSFORMS.register_module()
class OpenCVDecode(VideoReaderDecode):
    """Decode the frames ``results['frame_inds']`` of an open
    ``cv2.VideoCapture``, then release it.

    Seeks once to the smallest index, then walks forward with ``grab`` and
    converts (``retrieve`` + BGR->RGB) only the needed frames, each distinct
    index once; repeated indices get copies. The frames are exact (FFmpeg
    seeks to a key frame and decodes forward).

    Required keys: ``filename``, ``video_reader``, ``frame_inds``,
    ``total_frames``.

    Added keys: ``imgs`` (list of ``[H, W, 3]`` uint8 RGB, one per
    ``frame_inds`` entry, in order), ``original_shape`` and ``img_shape``
    (``(H, W)``), ``video_reader`` (released, set to ``None``).

    Raises:
        BadSampleError: an index is ``>= total_frames``, or the stream ends
            or fails before a needed frame (truncated file: the header
            promises more frames than there are); the message names the
            file, the frame and OpenCV.
    """
    backend = BACKEND
    missing_reader_message = (
        'video_reader of {path} is None (already released): put an '
        'OpenCVInit before every OpenCVDecode')
    _close_reader = staticmethod(_release)

    @staticmethod
    def _read_frames(reader: Any, unique: np.ndarray, path: str,
                     total_frames: int) -> List[np.ndarray]:
        position = int(unique[0])
        if position > 0 and not reader.set(cv2.CAP_PROP_POS_FRAMES,
                                           position):
            raise BadSampleError(
                f'OpenCV could not seek to frame {position} of {path}')
        frames = []
        for index in unique.tolist():
            while position <= index:
                if not reader.grab():
                    raise BadSampleError(
                        f'OpenCV could not read frame {position} of {path} '
                        f'(needed up to frame {int(unique[-1])}; the header '
                        f'says {total_frames} frames): truncated or corrupt '
                        'stream')
                position += 1
            ok, bgr = reader.retrieve()
            if not ok or bgr is None:
                raise BadSampleError(
                    f'OpenCV could not decode frame {index} of {path}')
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        return frames

"""``RawFrameDecode``: load the sampled frames of a folder of extracted
images (``img_00001.jpg``, ...), with OpenCV, Pillow or libjpeg-turbo."""
import io
import os.path as osp
from typing import Any, Optional

import cv2
import numpy as np
from PIL import Image

from mmvid.registry import TRANSFORMS
from ..errors import BadSampleError
from .base import VideoTransform
from .decode_utils import (frames_in_order, one_line, set_frame_outputs,
                           unique_frame_inds)

DECODING_BACKENDS = ('cv2', 'pillow', 'turbojpeg')
IO_BACKENDS = ('disk', )

TURBOJPEG_HELP = ("decoding_backend='turbojpeg' needs the PyTurboJPEG package "
                  '(pip install PyTurboJPEG) and the libjpeg-turbo system '
                  'library libturbojpeg (e.g. apt-get install libturbojpeg0)')


def _new_turbojpeg() -> Any:
    """A ``turbojpeg.TurboJPEG`` decoder; ``ImportError`` naming what to
    install where the package or its system library is missing."""
    try:
        import turbojpeg
    except ImportError as error:
        raise ImportError(f'{TURBOJPEG_HELP}: the package is missing'
                          ) from error
    try:
        return turbojpeg.TurboJPEG()
    except (OSError, RuntimeError) as error:
        raise ImportError(f'{TURBOJPEG_HELP}: the library could not be '
                          f'loaded ({one_line(error)})') from error


@TRANSFORMS.register_module()
class RawFrameDecode(VideoTransform):
    """Load the frames ``results['frame_inds']`` of a rawframe folder.

    Frame ``i`` is the file ``osp.join(frame_dir, filename_tmpl.format(i +
    offset))``; ``frame_inds`` already includes the dataset's
    ``start_index``. Each distinct index is read and decoded once; repeated
    indices (looping samplers) get copies, so in-place transforms never
    alias.

    Required keys: ``frame_dir``, ``filename_tmpl``, ``frame_inds``
    (``offset``, default 0, and ``modality``, default ``'RGB'``, are read
    when present).

    Added keys: ``imgs`` (list of ``[H, W, 3]`` uint8 RGB, one per
    ``frame_inds`` entry, in order), ``original_shape`` and ``img_shape``
    (``(H, W)`` of the first frame).

    Args:
        decoding_backend: ``'cv2'`` (``cv2.imdecode`` + BGR->RGB),
            ``'pillow'`` (``PIL.Image`` ``convert('RGB')``) or
            ``'turbojpeg'`` (PyTurboJPEG; JPEG only). Grey images become
            3-channel RGB.
        io_backend: where the files are read from; only ``'disk'``.

    Raises:
        ImportError: (at construction) ``'turbojpeg'`` without PyTurboJPEG
            or libturbojpeg.
        BadSampleError: a frame file is missing, empty or cannot be
            decoded; the message names the file, the frame index and the
            backend.
    """
    required_keys = ('frame_dir', 'filename_tmpl', 'frame_inds')
    added_keys = ('imgs', 'original_shape', 'img_shape')

    def __init__(self, decoding_backend: str = 'cv2',
                 io_backend: str = 'disk'):
        super().__init__()
        if decoding_backend not in DECODING_BACKENDS:
            raise ValueError(f'decoding_backend must be one of '
                             f'{DECODING_BACKENDS}, got {decoding_backend!r}')
        if io_backend not in IO_BACKENDS:
            raise ValueError(f'io_backend must be one of {IO_BACKENDS}, got '
                             f'{io_backend!r}')
        self.decoding_backend = decoding_backend
        self.io_backend = io_backend
        # The decoder holds a ctypes handle: made per process, not pickled.
        self._turbojpeg: Optional[Any] = None
        if decoding_backend == 'turbojpeg':
            self._turbojpeg = _new_turbojpeg()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state['_turbojpeg'] = None
        return state

    def transform(self, results: dict) -> dict:
        frame_dir = results['frame_dir']
        modality = results.get('modality', 'RGB')
        if modality != 'RGB':
            raise ValueError(f"RawFrameDecode decodes modality 'RGB' only, "
                             f'got {modality!r} (for {frame_dir})')
        tmpl = results['filename_tmpl']
        offset = results.get('offset', 0)
        unique, inverse = unique_frame_inds(results['frame_inds'], frame_dir,
                                            self.decoding_backend)
        frames = [
            self._load(osp.join(frame_dir, tmpl.format(index + offset)),
                       index) for index in unique.tolist()
        ]
        return set_frame_outputs(results, frames_in_order(frames, inverse))

    def _load(self, path: str, index: int) -> np.ndarray:
        """``[H, W, 3]`` uint8 RGB of frame ``index`` stored at ``path``."""
        where = f'frame {index} ({path}, backend {self.decoding_backend})'
        try:
            with open(path, 'rb') as file:
                data = file.read()
        except FileNotFoundError as error:
            folder = osp.dirname(path)
            if not osp.isdir(folder):
                raise BadSampleError(
                    f'no such frame directory: {folder} (needed for {where})'
                ) from error
            raise BadSampleError(f'missing {where}') from error
        except OSError as error:
            raise BadSampleError(
                f'could not read {where}: {one_line(error)}') from error
        if not data:
            raise BadSampleError(f'empty file for {where}')
        if self.decoding_backend == 'turbojpeg' and self._turbojpeg is None:
            self._turbojpeg = _new_turbojpeg()  # after unpickling
        try:
            rgb = self._decode(data)
        except Exception as error:
            raise BadSampleError(f'could not decode {where}: '
                                 f'{one_line(error)}') from error
        return rgb

    def _decode(self, data: bytes) -> np.ndarray:
        if self.decoding_backend == 'cv2':
            bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if bgr is None:
                raise ValueError('not an image OpenCV can read')
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if self.decoding_backend == 'pillow':
            with Image.open(io.BytesIO(data)) as image:
                return np.array(image.convert('RGB'))
        import turbojpeg
        return self._turbojpeg.decode(data, pixel_format=turbojpeg.TJPF_RGB)

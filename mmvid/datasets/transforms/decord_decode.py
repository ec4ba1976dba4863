"""Video decoding with decord: ``DecordInit`` opens the file,
``DecordDecode`` reads the sampled frames.

decord is imported when a transform is built, so this module imports (and
registers its transforms) where decord has no wheel; building one there
raises an ``ImportError`` saying what to install.

Threads: decord's ``num_threads`` is per reader; the default ``'auto'``
shares the usable cores among the loader workers (``W`` workers on ``W``
cores: one thread each) and gives a single process (no workers) all of
them.
"""
import re
from typing import Any, List, Optional, Tuple, Union

import numpy as np

from mmvid.registry import TRANSFORMS
from ..errors import BadSampleError
from .arg_checks import check_choice
from .decode_utils import (VideoReaderDecode, VideoReaderInit,
                           check_decode_mode, one_line)
from .exact_seek import decode_exact, decord_identical
from .pyav_decode import import_av, open_container
from .threads import auto_decoder_threads

BACKEND = 'decord'
IO_BACKENDS = ('disk', )
DECODERS = ('auto', 'decord', 'pyav')

# decord prefixes its messages with "[hh:mm:ss] /build/path/file.cc:123: ".
_LOG_PREFIX = re.compile(r'\[\d\d:\d\d:\d\d\] \S+:\d+: ')


DECORD_HELP = (
    "decord is not installed: pip install 'mmvid[decord]' (or pip install "
    'decord; where decord has no wheel for your Python/platform, a fork such '
    'as decord2 or eva-decord provides the same module). Without it, use the '
    'OpenCV decoders (OpenCVInit / OpenCVDecode, always installed) or PyAV '
    "(PyAVInit / PyAVDecode, pip install 'mmvid[pyav]')")


def import_decord() -> Any:
    """The ``decord`` module, or an ``ImportError`` saying what to install
    and which decoders work without it."""
    try:
        import decord
    except ImportError as error:
        raise ImportError(DECORD_HELP) from error
    return decord


def _reason(error: BaseException) -> str:
    return one_line(_LOG_PREFIX.sub('', str(error)) or repr(error))


@TRANSFORMS.register_module()
class DecordInit(VideoReaderInit):
    """Open ``results['filename']`` with ``decord.VideoReader``.

    Required keys: ``filename``.

    Added keys: ``video_reader`` (the open ``decord.VideoReader``),
    ``total_frames`` (int, > 0), ``avg_fps`` (float).

    Args:
        num_threads: decoding threads of the reader: ``'auto'`` (the
            default: all usable cores in the main process, the cores shared
            among the workers in a DataLoader worker; see
            :func:`~.threads.auto_decoder_threads`), an int (0: decord
            picks). Decoded frames are the same whatever the count.
        io_backend: where the file is read from; only ``'disk'`` (decord
            reads the path itself, without loading the file into memory).

    Raises:
        BadSampleError: the file is missing or empty, decord cannot open it
            (not a video, truncated) or it has no frames.
    """
    backend = BACKEND

    def __init__(self, num_threads: Union[int, str] = 'auto',
                 io_backend: str = 'disk'):
        super().__init__(num_threads)
        self.io_backend = check_choice('io_backend', io_backend, IO_BACKENDS)
        import_decord()

    def _open_reader(self, path: str) -> Tuple[Any, int]:
        decord = import_decord()
        try:
            reader = decord.VideoReader(path,
                                        num_threads=self.reader_threads())
        except Exception as error:  # decord raises RuntimeError/DECORDError
            raise BadSampleError(f'decord could not open {path} as a video: '
                                 f'{_reason(error)}') from error
        return reader, len(reader)

    def _avg_fps(self, reader: Any) -> float:
        return float(reader.get_avg_fps())


@TRANSFORMS.register_module()
class DecordDecode(VideoReaderDecode):
    """Decode the frames ``results['frame_inds']`` of the video an open
    decord reader reads (with decord, or where faster and bit-identical
    with PyAV: ``decoder``), then release the reader.

    Each distinct index is decoded once; repeated indices (looping samplers)
    get copies.

    Required keys: ``filename``, ``video_reader``, ``frame_inds``,
    ``total_frames``.

    Added keys: ``imgs`` (list of ``[H, W, 3]`` uint8 RGB, one per
    ``frame_inds`` entry, in order), ``original_shape`` and ``img_shape``
    (``(H, W)``), ``video_reader`` (set to ``None``).

    Args:
        mode: ``'accurate'`` decodes the exact frames of the distinct
            indices (with ``decoder``). ``'efficient'`` seeks
            (decord ``seek``, a key-frame seek) to each distinct index in
            increasing order and takes the next frame: faster on long GOPs,
            but the frames may be INEXACT and duplicated. decord 0.6.0 lands
            on a nearby key frame, for a forward jump the first key frame at
            or after the index, so a sparse index can yield a frame up to a
            GOP later; consecutive indices are read exactly. Use it only
            where approximate frames are acceptable (``decoder`` is not
            used).
        decoder: what decodes the frames in ``'accurate'`` mode:
            ``'decord'``: one ``get_batch`` of the distinct indices.
            ``'pyav'``: :func:`~.exact_seek.decode_exact` through PyAV
            (FFmpeg), which skips the unwanted non-reference frames of the
            pre-roll and of the gaps (about 1.7x faster on 32x2 H.264
            clips). It is exact for every codec, where decord returns
            frames two positions late after a seek in MPEG-2 / MPEG-4
            part 2 streams with B-frames and wrong frames in HEVC streams
            with open GOPs. ``'auto'`` (the default): ``'pyav'`` where
            PyAV is installed and the stream is one whose frames both
            decoders give bit-identically (8-bit H.264 / VP9:
            :func:`~.exact_seek.decord_identical`), ``'decord'``
            otherwise; so the frames are decord's in every case. The frame
            count and the sampled indices come from ``DecordInit``'s reader
            whatever the decoder.

    Raises:
        BadSampleError: an index is ``>= total_frames``, or a frame cannot
            be decoded (e.g. a truncated stream); the message names the
            file, the frame and decord.
    """
    backend = BACKEND
    missing_reader_message = (
        'video_reader of {path} is None (already released): put a '
        'DecordInit before every DecordDecode')

    def __init__(self, mode: str = 'accurate', decoder: str = 'auto'):
        super().__init__()
        self.mode = check_decode_mode(mode)
        check_choice('decoder', decoder, DECODERS)
        if decoder == 'pyav':
            import_av()
        self.decoder = decoder

    def _read_frames(self, reader: Any, unique: np.ndarray, path: str,
                     total_frames: int) -> List[np.ndarray]:
        # The reader is freed when the sample drops it (no close call).
        if self.mode == 'efficient':
            return self._efficient(reader, unique, path)
        if self.decoder != 'decord':
            frames = self._through_pyav(unique, path, total_frames)
            if frames is not None:
                return frames
        return self._accurate(reader, unique, path)

    def _through_pyav(self, unique: np.ndarray, path: str,
                      total_frames: int) -> Optional[List[np.ndarray]]:
        """The frames decoded by :func:`~.exact_seek.decode_exact`, or
        ``None`` for ``'auto'`` where PyAV is missing or the stream is not
        one both decoders give identically."""
        if self.decoder == 'auto':
            try:
                av = import_av()
            except ImportError:
                return None
        else:
            av = import_av()
        container = open_container(av, path, 1)
        try:
            if (self.decoder == 'auto'
                    and not decord_identical(container.streams.video[0])):
                return None
            return decode_exact(container, unique, path, BACKEND,
                                total_frames, auto_decoder_threads())
        finally:
            container.close()

    @staticmethod
    def _accurate(reader: Any, unique: np.ndarray,
                  path: str) -> List[np.ndarray]:
        try:
            batch = reader.get_batch(unique.tolist()).asnumpy()
        except Exception as batch_error:
            # Find the first frame that fails, for a precise message.
            for index in unique.tolist():
                try:
                    reader.get_batch([index])
                except Exception as error:
                    raise BadSampleError(
                        f'decord could not decode frame {index} of {path} '
                        f'(video has {len(reader)} frames): {_reason(error)}'
                    ) from error
            raise BadSampleError(
                f'decord could not decode frames {unique.tolist()} of {path}:'
                f' {_reason(batch_error)}') from batch_error
        return list(batch)

    @staticmethod
    def _efficient(reader: Any, unique: np.ndarray,
                   path: str) -> List[np.ndarray]:
        frames = []
        index = None
        try:
            reader.seek(0)
            for index in unique.tolist():
                reader.seek(index)
                frames.append(reader.next().asnumpy())
        except Exception as error:
            raise BadSampleError(
                f'decord could not decode frame {index} of {path} (video has '
                f'{len(reader)} frames): {_reason(error)}') from error
        return frames

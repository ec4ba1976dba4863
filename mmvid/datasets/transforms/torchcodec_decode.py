"""Video decoding with torchcodec (optional): ``TorchCodecInit`` opens the
file, ``TorchCodecDecode`` reads the sampled frames.

torchcodec (``pip install 'mmvid[torchcodec]'``) decodes with the FFmpeg
shared libraries installed on the system and must match the installed
torch. It is imported when ``TorchCodecInit`` is built; without it (or where
it cannot load: no FFmpeg libraries, a torchcodec built for another torch or
for CUDA) this module still imports and building raises an ``ImportError``
saying what to install and which decoders work instead.

Threads: FFmpeg's decoding threads of each reader (torchcodec's
``num_ffmpeg_threads``); the default ``'auto'`` shares the usable cores
among the loader workers, as ``DecordInit`` does.
"""
from typing import Any, List, Tuple, Union

import numpy as np

from mmvid.registry import TRANSFORMS
from ..errors import BadSampleError
from .arg_checks import check_choice
from .decode_utils import VideoReaderDecode, VideoReaderInit, one_line

BACKEND = 'torchcodec'
SEEK_MODES = ('exact', 'approximate')

TORCHCODEC_HELP = (
    "torchcodec is not installed or cannot load: pip install "
    "'mmvid[torchcodec]' (or pip install torchcodec): the release that "
    'matches your torch, a CPU build for a CPU-only torch. torchcodec needs '
    "FFmpeg's shared libraries (libavcodec, libavformat, ...) installed on "
    'the system, e.g. apt install ffmpeg. Without it, use DecordInit / '
    "DecordDecode (pip install 'mmvid[decord]'), PyAVInit / PyAVDecode "
    "(pip install 'mmvid[pyav]') or OpenCVInit / OpenCVDecode (always "
    'installed)')


def import_video_decoder() -> Any:
    """``torchcodec.decoders.VideoDecoder``, or an ``ImportError`` saying
    what to install and which decoders work without it.

    torchcodec raises ``RuntimeError`` (not ``ImportError``) when its
    libraries cannot load (no FFmpeg shared libraries, a build for another
    torch or for CUDA); the first line of that reason is appended.
    """
    try:
        from torchcodec.decoders import VideoDecoder
    except ImportError as error:
        raise ImportError(TORCHCODEC_HELP) from error
    except (RuntimeError, OSError) as error:
        raise ImportError(f'{TORCHCODEC_HELP}. torchcodec failed to load: '
                          f'{one_line(error)}') from error
    return VideoDecoder


@TRANSFORMS.register_module()
class TorchCodecInit(VideoReaderInit):
    """Open ``results['filename']`` with ``torchcodec.decoders.VideoDecoder``
    (CPU, frames in ``[H, W, 3]`` order).

    Required keys: ``filename``.

    Added keys: ``video_reader`` (the open ``VideoDecoder``),
    ``total_frames`` (int > 0: ``metadata.num_frames``, counted from the
    packets with ``seek_mode='exact'``, the header's count with
    ``'approximate'``), ``avg_fps`` (float; 0.0 where unknown).

    Args:
        num_threads: FFmpeg decoding threads of the reader: ``'auto'`` (the
            default: all usable cores in the main process, the cores shared
            among the workers in a DataLoader worker; see
            :func:`~.threads.auto_decoder_threads`) or an int >= 0 (0:
            FFmpeg picks).
        seek_mode: ``'exact'`` (the default) scans the file's packets when
            it opens it, so frame ``i`` is always the ``i``-th frame.
            ``'approximate'`` skips the scan and locates frames from the
            header's frame rate and timestamps: faster to open, but frames
            may be wrong where the header is (variable frame rate, edited
            streams).

    Raises:
        ImportError: (at construction) torchcodec is not installed or cannot
            load.
        BadSampleError: the file is missing or empty, torchcodec cannot
            open it (not a video, truncated) or it has no frames.
    """
    backend = BACKEND

    def __init__(self, num_threads: Union[int, str] = 'auto',
                 seek_mode: str = 'exact'):
        super().__init__(num_threads)
        self.seek_mode = check_choice('seek_mode', seek_mode, SEEK_MODES)
        import_video_decoder()

    def _open_reader(self, path: str) -> Tuple[Any, int]:
        video_decoder = import_video_decoder()
        try:
            reader = video_decoder(path, seek_mode=self.seek_mode,
                                   num_ffmpeg_threads=self.reader_threads(),
                                   device='cpu', dimension_order='NHWC')
            total_frames = reader.metadata.num_frames
        except Exception as error:  # ValueError, RuntimeError from FFmpeg
            raise BadSampleError(f'torchcodec could not open {path} as a '
                                 f'video: {one_line(error)}') from error
        return reader, int(total_frames or 0)

    def _avg_fps(self, reader: Any) -> float:
        fps = reader.metadata.average_fps
        return float(fps) if fps else 0.0


@TRANSFORMS.register_module()
class TorchCodecDecode(VideoReaderDecode):
    """Decode the frames ``results['frame_inds']`` of an open torchcodec
    ``VideoDecoder``, then release it.

    The distinct indices, sorted, are decoded with one ``get_frames_at``
    call; repeated indices (looping samplers) get copies.

    Required keys: ``filename``, ``video_reader``, ``frame_inds``,
    ``total_frames``.

    Added keys: ``imgs`` (list of ``[H, W, 3]`` uint8 RGB, one per
    ``frame_inds`` entry, in order), ``original_shape`` and ``img_shape``
    (``(H, W)``), ``video_reader`` (set to ``None``).

    Raises:
        BadSampleError: an index is ``>= total_frames``, or a frame cannot
            be decoded (e.g. a truncated stream); the message names the
            file, the frame and torchcodec.
    """
    backend = BACKEND
    missing_reader_message = (
        'video_reader of {path} is None (already released): put a '
        'TorchCodecInit before every TorchCodecDecode')

    def _read_frames(self, reader: Any, unique: np.ndarray, path: str,
                     total_frames: int) -> List[np.ndarray]:
        # The reader is freed when the sample drops it (no close call).
        indices = unique.tolist()
        try:
            batch = reader.get_frames_at(indices).data.numpy()
        except Exception as batch_error:
            # Find the first frame that fails, for a precise message.
            for index in indices:
                try:
                    reader.get_frames_at([index])
                except Exception as error:
                    raise BadSampleError(
                        f'torchcodec could not decode frame {index} of '
                        f'{path} (video has {total_frames} frames): '
                        f'{one_line(error)}') from error
            raise BadSampleError(
                f'torchcodec could not decode frames {indices} of {path}: '
                f'{one_line(batch_error)}') from batch_error
        return list(batch)

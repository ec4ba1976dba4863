"""Writers of small test videos and frame folders, returning the frames
written (RGB uint8) as ground truth.

FFV1 (``.avi`` / ``.mkv``) is lossless: every decoder must return exactly
the frames written. mp4v (``.mp4``) is lossy: decoders can only be compared
with each other. PNG folders are lossless, JPEG folders lossy. H.264 with
B-frames (``write_h264_video``, through PyAV's libx264) is lossy too: the
reference is ``decode_every_frame``, PyAV's straight decode of every frame.
"""
from pathlib import Path
from typing import List, Optional, Sequence, Union

import cv2
import numpy as np

PathLike = Union[str, Path]


def random_frames(num_frames: int, height: int = 48, width: int = 64,
                  seed: int = 0) -> List[np.ndarray]:
    """``num_frames`` random ``[H, W, 3]`` uint8 RGB frames."""
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        for _ in range(num_frames)
    ]


def patterned_frames(num_frames: int, height: int = 48,
                     width: int = 64) -> List[np.ndarray]:
    """Smooth moving gradients (well compressible, so a lossy codec keeps
    them close): frame ``i`` is shifted by ``i`` pixels."""
    y, x = np.mgrid[0:height, 0:width]
    frames = []
    for i in range(num_frames):
        red = (x + i) * 255 // (width + num_frames)
        green = (y + i) * 255 // (height + num_frames)
        blue = np.full_like(x, i * 255 // max(num_frames - 1, 1))
        frames.append(np.stack([red, green, blue], -1).astype(np.uint8))
    return frames


def write_video(path: PathLike, frames: Sequence[np.ndarray],
                fourcc: str = 'FFV1', fps: float = 25) -> str:
    """Write RGB ``frames`` with OpenCV; return the path as ``str``."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps,
                             (width, height))
    assert writer.isOpened(), f'OpenCV cannot write {fourcc} to {path}'
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    return str(path)


def write_ffv1_video(path: PathLike, num_frames: int = 30, height: int = 48,
                     width: int = 64, seed: int = 0) -> List[np.ndarray]:
    """A lossless FFV1 video (``.avi`` or ``.mkv``) of random frames;
    returns the frames."""
    frames = random_frames(num_frames, height, width, seed)
    write_video(path, frames, 'FFV1')
    return frames


def write_mp4v_video(path: PathLike, num_frames: int = 30, height: int = 48,
                     width: int = 64) -> List[np.ndarray]:
    """A lossy mp4v ``.mp4`` of patterned frames; returns the frames
    written (decoded frames are only close to them)."""
    frames = patterned_frames(num_frames, height, width)
    write_video(path, frames, 'mp4v')
    return frames


def write_frame_dir(frame_dir: PathLike, frames: Sequence[np.ndarray],
                    filename_tmpl: str = 'img_{:05}.jpg',
                    first_index: int = 1) -> List[str]:
    """Write RGB ``frames`` as ``filename_tmpl.format(first_index + i)``
    with ``cv2.imwrite`` (format from the extension); return the paths."""
    frame_dir = Path(frame_dir)
    frame_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, frame in enumerate(frames):
        path = str(frame_dir / filename_tmpl.format(first_index + i))
        assert cv2.imwrite(path, np.ascontiguousarray(frame[..., ::-1]))
        paths.append(path)
    return paths


def truncate_file(src: PathLike, dst: PathLike, fraction: float) -> str:
    """Copy the first ``fraction`` of ``src``'s bytes to ``dst``."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[:int(len(data) * fraction)])
    return str(dst)


def moving_texture_frames(num_frames: int, height: int = 64,
                          width: int = 96, seed: int = 0
                          ) -> List[np.ndarray]:
    """A random blocky texture moving at varied speeds: an encoder uses P
    and B frames for it, some of them non-reference."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (height, width * 2, 3), dtype=np.uint8)
    base = np.repeat(np.repeat(base[::4, ::4], 4, 0), 4, 1)
    frames = []
    for i in range(num_frames):
        shift = (i * 3 + (i // 10) ** 2) % width
        frames.append(np.ascontiguousarray(base[:height,
                                                shift:shift + width]))
    return frames


def write_encoded_video(path: PathLike, encoder: str = 'libx264',
                        pix_fmt: str = 'yuv420p',
                        options: Optional[dict] = None,
                        tags: Optional[dict] = None, num_frames: int = 48,
                        height: int = 64, width: int = 96, fps: int = 25,
                        frames: Optional[Sequence[np.ndarray]] = None) -> str:
    """A video written by PyAV's ``encoder`` (``'libx264'``, ``'libx265'``,
    ``'libvpx-vp9'``, ``'mpeg4'``, ...) in ``pix_fmt``, with the encoder's
    ``options`` and the codec context's colour ``tags`` (e.g.
    ``colorspace=1``), of ``frames`` (default: ``num_frames`` of
    :func:`moving_texture_frames`); returns the path as ``str``. Lossy:
    compare decoders with :func:`decode_every_frame`."""
    import av
    if frames is None:
        frames = moving_texture_frames(num_frames, height, width)
    with av.open(str(path), 'w') as container:
        stream = container.add_stream(encoder, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.options = dict(options or {})
        for name, value in (tags or {}).items():
            setattr(stream.codec_context, name, value)
        for image in frames:
            frame = av.VideoFrame.from_ndarray(image, format='rgb24')
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return str(path)


def write_h264_video(path: PathLike, num_frames: int = 48, height: int = 64,
                     width: int = 96, gop: int = 12, bframes: int = 3,
                     fps: int = 25, pix_fmt: str = 'yuv420p') -> str:
    """An H.264 video with B-frames (PyAV's libx264; key frames every
    ``gop`` frames) of :func:`moving_texture_frames`; returns the path as
    ``str``. Lossy: compare decoders with :func:`decode_every_frame`."""
    return write_encoded_video(path, 'libx264', pix_fmt,
                               {'g': str(gop), 'bf': str(bframes)},
                               num_frames=num_frames, height=height,
                               width=width, fps=fps)


def decode_every_frame(path: PathLike) -> np.ndarray:
    """``[N, H, W, 3]`` uint8 RGB: every frame of the first video stream,
    decoded from the first in order by PyAV and converted by its own
    ``to_ndarray``: a reference independent of mmvid's decoders."""
    import av
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format='rgb24')
                         for frame in container.decode(video=0)])

"""Writers of small test videos and frame folders, returning the frames
written (RGB uint8) as ground truth.

FFV1 (``.avi`` / ``.mkv``) is lossless: every decoder must return exactly
the frames written. mp4v (``.mp4``) is lossy: decoders can only be compared
with each other. PNG folders are lossless, JPEG folders lossy.
"""
from pathlib import Path
from typing import List, Sequence, Union

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

"""Class activation maps over video frames: colour them (OpenCV's JET
colormap), blend them over the frames, write a GIF (Pillow) or an MP4
(:class:`~mmvid.visualization.video_io.VideoWriter`) atomically."""
import contextlib
import os
import os.path as osp
from typing import Sequence

import cv2
import numpy as np
import torch
from PIL import Image

from mmvid.checkpoint.durable import commit_partial
from .video_io import VideoWriter

VIDEO_SUFFIXES = ('.gif', '.mp4')


def overlay_cam(frames: np.ndarray, cam: torch.Tensor,
                alpha: float = 0.5) -> np.ndarray:
    """Blend the JET-coloured map over the frames.

    Args:
        frames: ``[T, H, W, 3]`` uint8 RGB.
        cam: ``[T, H, W]`` in ``[0, 1]``.
        alpha: Weight of the map: ``out = (1 - alpha) * frame + alpha *
            colour``.

    Returns:
        ``[T, H, W, 3]`` uint8 RGB.
    """
    frames = np.asarray(frames)
    cam = torch.as_tensor(cam).detach().cpu().float().numpy()
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError('frames must be uint8 [T, H, W, 3], got '
                         f'{frames.dtype} {frames.shape}')
    if cam.shape != frames.shape[:3]:
        raise ValueError(f'cam {cam.shape} does not match the frames '
                         f'{frames.shape[:3]} ([T, H, W])')
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    levels = np.round(np.clip(cam, 0.0, 1.0) * 255).astype(np.uint8)
    colours = np.stack([
        cv2.cvtColor(cv2.applyColorMap(level, cv2.COLORMAP_JET),
                     cv2.COLOR_BGR2RGB) for level in levels
    ])
    blended = (1.0 - alpha) * frames + alpha * colours
    return np.round(blended).clip(0, 255).astype(np.uint8)


def _partial_path(path: str) -> str:
    """A hidden sibling with the same extension (the writers pick the
    format from it): ``<folder>/.<stem>.partial<ext>``."""
    folder, name = osp.split(path)
    stem, ext = osp.splitext(name)
    return osp.join(folder, f'.{stem}.partial{ext}')


def _write_gif(path: str, frames: Sequence[np.ndarray], fps: float) -> None:
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(path, format='GIF', save_all=True,
                   append_images=images[1:],
                   duration=int(round(1000 / fps)), loop=0)


def _write_mp4(path: str, frames: Sequence[np.ndarray], fps: float) -> None:
    height, width = frames[0].shape[:2]
    with VideoWriter(path, fps, (width, height)) as writer:
        for frame in frames:
            writer.write(frame)


def write_video(path: str, frames: np.ndarray, fps: float = 8.0) -> None:
    """Write ``[T, H, W, 3]`` uint8 RGB frames to ``path`` (``.gif`` or
    ``.mp4``) atomically: a hidden partial file renamed over ``path``.

    Raises:
        ValueError: another extension, no frames, or ``fps <= 0``.
    """
    suffix = osp.splitext(path)[1].lower()
    if suffix not in VIDEO_SUFFIXES:
        raise ValueError(f'{path}: the output must end with one of '
                         f'{VIDEO_SUFFIXES}, got {suffix or "no extension"!r}')
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[0] == 0 or frames.shape[-1] != 3:
        raise ValueError(f'frames must be [T, H, W, 3] with T >= 1, got '
                         f'{frames.shape}')
    if not fps > 0:
        raise ValueError(f'fps must be > 0, got {fps}')
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    partial = _partial_path(osp.abspath(path))
    try:
        if suffix == '.gif':
            _write_gif(partial, list(frames), fps)
        else:
            _write_mp4(partial, list(frames), fps)
        commit_partial(partial, osp.abspath(path))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)
        raise

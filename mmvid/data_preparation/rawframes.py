"""Extract the frames of videos to JPEG files (``img_00001.jpg`` ...,
1-based), one video or a whole dataset folder, resumable.

A video's frame folder is written into a hidden temporary sibling, finished
with a ``.done`` file (json: number of frames), then renamed into place. A
frame folder with ``.done`` is complete and skipped by a rerun; one without
(written by something else, or copied half) is redone.
"""
import json
import os
import os.path as osp
from typing import Optional, Tuple

import cv2

from mmvid.datasets.errors import BadSampleError
from .atomic import atomic_dir, clean_partials
from .batch import BatchReport, check_num_workers, run_file_jobs
from .decoding import check_backend, iter_frames
from .tree import check_ext, check_level, list_videos, strip_ext

DONE_FILE = '.done'


def _check_resize(new_short: Optional[int], new_width: Optional[int],
                  new_height: Optional[int]) -> None:
    for name, value in (('new_short', new_short), ('new_width', new_width),
                        ('new_height', new_height)):
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, int) or value < 1):
            raise ValueError(
                f'{name} must be None or an int >= 1, got {value!r}')
    if (new_width is None) != (new_height is None):
        raise ValueError(
            'give new_width and new_height together (got '
            f'new_width={new_width!r}, new_height={new_height!r})')
    if new_short is not None and new_width is not None:
        raise ValueError('give either new_short or new_width/new_height, not '
                         'both')


def output_size(width: int, height: int, new_short: Optional[int] = None,
                new_width: Optional[int] = None,
                new_height: Optional[int] = None) -> Tuple[int, int]:
    """(width, height) of the extracted frames.

    ``new_short`` scales the short side to it keeping the aspect ratio (the
    long side is rounded to the nearest int); ``new_width, new_height`` give
    the size exactly; neither keeps the size.
    """
    _check_resize(new_short, new_width, new_height)
    if new_short is not None:
        scale = new_short / min(width, height)
        if width <= height:
            return new_short, int(height * scale + 0.5)
        return int(width * scale + 0.5), new_short
    if new_width is not None:
        return new_width, new_height
    return width, height


def _write_frames(video_path: str, folder: str, backend: str,
                  new_short: Optional[int], new_width: Optional[int],
                  new_height: Optional[int], filename_tmpl: str,
                  jpeg_quality: int) -> int:
    flags = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]
    count = 0
    for count, frame in enumerate(iter_frames(video_path, backend), 1):
        height, width = frame.shape[:2]
        size = output_size(width, height, new_short, new_width, new_height)
        if size != (width, height):
            shrink = size[0] * size[1] < width * height
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA
                               if shrink else cv2.INTER_LINEAR)
        ok, data = cv2.imencode('.jpg', frame, flags)
        if not ok:
            raise RuntimeError(f'OpenCV cannot encode JPEG for {folder}')
        with open(osp.join(folder, filename_tmpl.format(count)), 'wb') as f:
            f.write(data.tobytes())
    if count == 0:
        raise BadSampleError(f'{backend} decoded no frame of {video_path}')
    return count


def extract_rawframes(video_path: str,
                      out_dir: str,
                      backend: str = 'decord',
                      new_short: Optional[int] = None,
                      new_width: Optional[int] = None,
                      new_height: Optional[int] = None,
                      filename_tmpl: str = 'img_{:05}.jpg',
                      jpeg_quality: int = 95) -> int:
    """Write every frame of ``video_path`` as a JPEG into ``out_dir``.

    Frames are numbered from 1 (``img_00001.jpg``). ``out_dir`` appears
    only when complete (atomic rename) and then holds a ``.done`` file;
    an existing ``out_dir`` is replaced.

    Args:
        video_path (str): The video.
        out_dir (str): The frame folder to create.
        backend (str): 'decord' or 'opencv'.
        new_short (int, optional): Resize so the short side is this long.
        new_width (int, optional): Resize to exactly this width (with
            ``new_height``).
        new_height (int, optional): See ``new_width``.
        filename_tmpl (str): Frame file names, formatted with the 1-based
            frame number.
        jpeg_quality (int): 1..100.

    Returns:
        int: The number of frames written.

    Raises:
        BadSampleError: The video is missing or cannot be fully decoded;
            ``out_dir`` is then left as it was.
    """
    check_backend(backend)
    _check_resize(new_short, new_width, new_height)
    if not isinstance(filename_tmpl, str) or \
            filename_tmpl.format(1) == filename_tmpl.format(2):
        raise ValueError('filename_tmpl must format the frame number, e.g. '
                         f"'img_{{:05}}.jpg', got {filename_tmpl!r}")
    if isinstance(jpeg_quality, bool) or not isinstance(jpeg_quality, int) \
            or not 1 <= jpeg_quality <= 100:
        raise ValueError(
            f'jpeg_quality must be an int in [1, 100], got {jpeg_quality!r}')
    with atomic_dir(out_dir, replace=True) as tmp:
        count = _write_frames(video_path, tmp, backend, new_short, new_width,
                              new_height, filename_tmpl, jpeg_quality)
        with open(osp.join(tmp, DONE_FILE), 'w') as f:
            json.dump(dict(video=osp.abspath(video_path), num_frames=count),
                      f)
    return count


def completed_frames(frame_dir: str) -> Optional[int]:
    """The frame count of a complete frame folder, or None if incomplete."""
    try:
        with open(osp.join(frame_dir, DONE_FILE)) as f:
            return int(json.load(f)['num_frames'])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _frames_complete(frame_dir: str) -> bool:
    """Whether ``frame_dir`` is a complete frame folder."""
    return completed_frames(frame_dir) is not None


def build_rawframes(src_dir: str,
                    out_dir: str,
                    ext: str = 'mp4',
                    level: int = 2,
                    num_workers: int = 1,
                    backend: str = 'decord',
                    new_short: Optional[int] = None,
                    new_width: Optional[int] = None,
                    new_height: Optional[int] = None,
                    filename_tmpl: str = 'img_{:05}.jpg',
                    jpeg_quality: int = 95,
                    overwrite: bool = False,
                    progress: bool = True) -> BatchReport:
    """Extract the frames of every video of a dataset folder.

    ``src_dir/<class>/<name>.<ext>`` (level 2) becomes
    ``out_dir/<class>/<name>/img_00001.jpg ...``; level 1 has no class
    folders. Videos whose frame folder is complete are skipped, so an
    interrupted run resumes; a broken video is reported and does not stop
    the run.

    Args:
        src_dir (str): The video folder.
        out_dir (str): The frame folder root.
        ext (str): Video extension, without the dot.
        level (int): 1 or 2 (class folders).
        num_workers (int): Worker processes.
        backend (str): 'decord' or 'opencv'.
        new_short (int, optional): See :func:`extract_rawframes`.
        new_width (int, optional): See :func:`extract_rawframes`.
        new_height (int, optional): See :func:`extract_rawframes`.
        filename_tmpl (str): Frame file names.
        jpeg_quality (int): 1..100.
        overwrite (bool): Redo complete frame folders too.
        progress (bool): Show a progress bar.

    Returns:
        BatchReport: Videos (paths relative to ``src_dir``) done, skipped
        and failed with reasons.
    """
    check_ext(ext)
    check_level(level)
    check_num_workers(num_workers)
    check_backend(backend)
    _check_resize(new_short, new_width, new_height)
    videos = list_videos(src_dir, ext, level)
    kwargs = dict(backend=backend, new_short=new_short, new_width=new_width,
                  new_height=new_height, filename_tmpl=filename_tmpl,
                  jpeg_quality=jpeg_quality)
    os.makedirs(out_dir, exist_ok=True)
    for parent in sorted({osp.dirname(osp.join(out_dir, rel))
                          for rel in videos}):
        clean_partials(parent)
    return run_file_jobs(
        extract_rawframes,
        [(rel, osp.join(src_dir, rel), osp.join(out_dir, strip_ext(rel)))
         for rel in videos],
        is_complete=_frames_complete, errors=BadSampleError,
        overwrite=overwrite, job_kwargs=kwargs, num_workers=num_workers,
        progress=progress)

"""Re-encode videos with the ``ffmpeg`` program: short side 256, H.264
(libx264) with a short GOP, no audio.

Decoding a sampled clip costs one seek plus decoding from the previous key
frame, so a short GOP (key frame every ``gop`` frames, mmaction2's
``--dense`` uses 16) and a small size make training-time decoding several
times faster.

The output is written to a hidden temporary sibling (same extension) and
renamed when ffmpeg succeeds, so an interrupted run leaves no partial video.
"""
import os
import os.path as osp
import shutil
import subprocess
from typing import List, Optional

from .atomic import atomic_file, clean_partials
from .batch import BatchReport, check_num_workers, run_file_jobs
from .tree import check_ext, check_level, list_videos, strip_ext

INSTALL_HINT = ('install it with `apt-get install ffmpeg` (Debian/Ubuntu), '
                '`conda install -c conda-forge ffmpeg` or your package '
                'manager, or pass the path of the executable')


class FFmpegNotFoundError(RuntimeError):
    """The ``ffmpeg`` executable cannot be found."""


class FFmpegError(RuntimeError):
    """ffmpeg ran and failed (the message has the end of its log)."""


def find_ffmpeg(ffmpeg: str = 'ffmpeg') -> str:
    """The full path of the ffmpeg executable.

    Args:
        ffmpeg (str): A name looked up on PATH, or a path.

    Raises:
        FFmpegNotFoundError: It is neither on PATH nor an executable file.
    """
    found = shutil.which(ffmpeg)
    if found is None:
        raise FFmpegNotFoundError(
            f'the ffmpeg executable {ffmpeg!r} was not found (PATH='
            f'{os.environ.get("PATH", "")}); resizing videos needs ffmpeg: '
            f'{INSTALL_HINT}')
    return found


def _check_positive_int(name: str, value, even: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 \
            or (even and value % 2):
        kind = 'an even int >= 2' if even else 'an int >= 1'
        raise ValueError(f'{name} must be {kind}, got {value!r}')


def ffmpeg_command(src: str, dst: str, short_side: int = 256, gop: int = 16,
                   crf: int = 23, preset: str = 'veryfast',
                   keep_audio: bool = False,
                   ffmpeg: str = 'ffmpeg') -> List[str]:
    """The argv that re-encodes ``src`` into ``dst``.

    The scale filter picks the side to set from the (rotation-corrected)
    input size: landscape gets height ``short_side``, portrait or square
    width ``short_side``; ``-2`` makes the other side the even number
    nearest to the kept aspect ratio (yuv420p needs even sizes).

    Args:
        src (str): Input video.
        dst (str): Output video (its extension picks the container).
        short_side (int): Even output short side.
        gop (int): Key frame interval in frames (``-g``).
        crf (int): x264 constant rate factor, 0..51 (lower: better, bigger).
        preset (str): x264 speed preset.
        keep_audio (bool): Copy the audio stream (default: drop it, ``-an``).
        ffmpeg (str): The executable.

    Returns:
        list[str]: The command line, for ``subprocess.run``.
    """
    _check_positive_int('short_side', short_side, even=True)
    _check_positive_int('gop', gop)
    if isinstance(crf, bool) or not isinstance(crf, int) or \
            not 0 <= crf <= 51:
        raise ValueError(f'crf must be an int in [0, 51], got {crf!r}')
    scale = (f"scale=w='if(gt(iw,ih),-2,{short_side})'"
             f":h='if(gt(iw,ih),{short_side},-2)'")
    audio = ['-c:a', 'copy'] if keep_audio else ['-an']
    return [
        ffmpeg, '-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i',
        src, '-map', '0:v:0'
    ] + (['-map', '0:a?'] if keep_audio else []) + [
        '-vf', scale, '-c:v', 'libx264', '-preset', preset, '-crf',
        str(crf), '-g', str(gop), '-pix_fmt', 'yuv420p'
    ] + audio + [dst]


def resize_video(src: str,
                 dst: str,
                 short_side: int = 256,
                 gop: int = 16,
                 crf: int = 23,
                 preset: str = 'veryfast',
                 keep_audio: bool = False,
                 ffmpeg: str = 'ffmpeg') -> None:
    """Re-encode one video (see :func:`ffmpeg_command`); atomic.

    Raises:
        FFmpegNotFoundError: No ffmpeg executable.
        FileNotFoundError: ``src`` does not exist.
        FFmpegError: ffmpeg failed; ``dst`` is left as it was.
    """
    exe = find_ffmpeg(ffmpeg)
    if not osp.isfile(src):
        raise FileNotFoundError(f'video {src} does not exist')
    with atomic_file(dst) as tmp:
        command = ffmpeg_command(src, tmp, short_side, gop, crf, preset,
                                 keep_audio, exe)
        done = subprocess.run(command, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              errors='replace')
        if done.returncode != 0 or not osp.isfile(tmp):
            log = ' | '.join(done.stdout.strip().splitlines()[-5:])
            raise FFmpegError(f'ffmpeg failed (exit {done.returncode}) on '
                              f'{src}: {log or "no output"}')


def resize_videos(src_dir: str,
                  out_dir: str,
                  ext: str = 'mp4',
                  level: int = 2,
                  out_ext: Optional[str] = 'mp4',
                  short_side: int = 256,
                  gop: int = 16,
                  crf: int = 23,
                  preset: str = 'veryfast',
                  keep_audio: bool = False,
                  num_workers: int = 1,
                  ffmpeg: str = 'ffmpeg',
                  overwrite: bool = False,
                  progress: bool = True) -> BatchReport:
    """Re-encode every video of a dataset folder.

    ``src_dir/<class>/<name>.<ext>`` (level 2; level 1 has no class folder)
    becomes ``out_dir/<class>/<name>.<out_ext>``. Existing outputs are
    complete (atomic writes) and skipped unless ``overwrite``, so an
    interrupted run resumes; a video ffmpeg fails on is reported and does
    not stop the run.

    Args:
        src_dir (str): Input folder.
        out_dir (str): Output folder.
        ext (str): Input extension, without the dot.
        level (int): 1 or 2 (class folders).
        out_ext (str, optional): Output extension; None keeps ``ext``.
        short_side (int): See :func:`ffmpeg_command`.
        gop (int): See :func:`ffmpeg_command`.
        crf (int): See :func:`ffmpeg_command`.
        preset (str): See :func:`ffmpeg_command`.
        keep_audio (bool): See :func:`ffmpeg_command`.
        num_workers (int): Parallel ffmpeg processes.
        ffmpeg (str): The executable (name on PATH or path).
        overwrite (bool): Redo existing outputs.
        progress (bool): Show a progress bar.

    Returns:
        BatchReport: Inputs (relative to ``src_dir``) done, skipped, failed.

    Raises:
        FFmpegNotFoundError: Before any work, if ffmpeg is missing.
    """
    exe = find_ffmpeg(ffmpeg)
    check_ext(ext)
    out_ext = ext if out_ext is None else check_ext(out_ext)
    check_level(level)
    check_num_workers(num_workers)
    ffmpeg_command('in', 'out', short_side, gop, crf, preset, keep_audio)
    videos = list_videos(src_dir, ext, level)
    if osp.abspath(src_dir) == osp.abspath(out_dir) and out_ext == ext:
        raise ValueError('out_dir is src_dir with the same extension: the '
                         'outputs would replace the inputs')
    for parent in sorted({osp.dirname(osp.join(out_dir, rel))
                          for rel in videos}):
        clean_partials(parent)
    kwargs = dict(short_side=short_side, gop=gop, crf=crf, preset=preset,
                  keep_audio=keep_audio, ffmpeg=exe)
    return run_file_jobs(
        resize_video,
        [(rel, osp.join(src_dir, rel),
          osp.join(out_dir, strip_ext(rel) + '.' + out_ext))
         for rel in videos],
        is_complete=osp.isfile, errors=FFmpegError, overwrite=overwrite,
        job_kwargs=kwargs, num_workers=num_workers, progress=progress)

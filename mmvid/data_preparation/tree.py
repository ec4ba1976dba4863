"""Find the videos of a dataset folder laid out one or two levels deep.

``level=1``: ``root/<video>.<ext>``;
``level=2``: ``root/<class>/<video>.<ext>`` (the Kinetics / UCF101
class-per-folder layout).
"""
import os
import os.path as osp
from typing import List


def check_ext(ext: str) -> str:
    """A file extension without the dot, e.g. ``'mp4'``."""
    if not isinstance(ext, str) or not ext or ext.startswith('.') \
            or '/' in ext:
        raise ValueError(
            f"ext must be an extension without the dot, e.g. 'mp4', got "
            f'{ext!r}')
    return ext


def check_level(level: int) -> int:
    """``level`` checked to be 1 or 2."""
    if level not in (1, 2) or isinstance(level, bool):
        raise ValueError(
            'level must be 1 (root/<video>) or 2 (root/<class>/<video>), '
            f'got {level!r}')
    return level


def _visible_sorted(path: str) -> List[str]:
    return sorted(name for name in os.listdir(path)
                  if not name.startswith('.'))


def list_videos(root: str, ext: str = 'mp4', level: int = 2) -> List[str]:
    """The video files under ``root``, as sorted paths relative to it.

    Hidden files and folders (temporary outputs start with a dot) are
    ignored.

    Args:
        root (str): The dataset folder.
        ext (str): Extension without the dot; matched case-sensitively.
        level (int): 1 or 2, see the module docstring.

    Returns:
        list[str]: e.g. ``['abseiling/a.mp4', 'abseiling/b.mp4', ...]``.
    """
    check_ext(ext)
    check_level(level)
    if not osp.isdir(root):
        raise FileNotFoundError(f'video folder {root} does not exist')
    suffix = '.' + ext
    if level == 1:
        return [name for name in _visible_sorted(root)
                if name.endswith(suffix)
                and osp.isfile(osp.join(root, name))]
    videos = []
    for cls in _visible_sorted(root):
        cls_dir = osp.join(root, cls)
        if osp.isdir(cls_dir):
            videos += [f'{cls}/{name}' for name in _visible_sorted(cls_dir)
                       if name.endswith(suffix)
                       and osp.isfile(osp.join(cls_dir, name))]
    return videos


def strip_ext(rel_path: str) -> str:
    """``'cls/video.mp4'`` -> ``'cls/video'``."""
    return osp.splitext(rel_path)[0]

"""Durable file writes: a temporary file in the target's folder, flushed and
fsynced, then renamed over the target (``os.replace`` is atomic on POSIX),
then the folder fsynced. A reader sees the old file or the new one, never a
part of one, even after a crash or ``kill -9`` mid-write."""
import os
import os.path as osp

PARTIAL_SUFFIX = '.partial'


def partial_path(path: str) -> str:
    """The hidden temporary name ``path`` is written under first:
    ``<folder>/.<name>.partial``."""
    folder, name = osp.split(path)
    return osp.join(folder, f'.{name}{PARTIAL_SUFFIX}')


def fsync_folder(folder: str) -> None:
    """Make a rename or removal in ``folder`` durable (no-op where folders
    cannot be opened, e.g. on Windows)."""
    try:
        fd = os.open(folder or '.', os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit_partial(partial: str, path: str) -> None:
    """fsync the finished ``partial`` file and rename it to ``path``."""
    with open(partial, 'rb') as f:
        os.fsync(f.fileno())
    os.replace(partial, path)
    fsync_folder(osp.dirname(path))


def write_text_durable(path: str, text: str) -> None:
    """Write ``text`` to ``path`` durably (see the module docstring)."""
    partial = partial_path(path)
    with open(partial, 'w', encoding='utf-8') as f:
        f.write(text)
        f.flush()
    commit_partial(partial, path)


def remove_durable(path: str) -> bool:
    """Remove the file ``path`` if it exists; returns whether it did."""
    try:
        os.remove(path)
    except FileNotFoundError:
        return False
    fsync_folder(osp.dirname(path))
    return True


def is_inside(path: str, folder: str) -> bool:
    """Whether ``path`` lies in ``folder`` (symbolic links resolved)."""
    path, folder = osp.realpath(path), osp.realpath(folder)
    return osp.commonpath([path, folder]) == folder

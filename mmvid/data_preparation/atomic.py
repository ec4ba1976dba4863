"""Atomic outputs: write into a hidden temporary sibling, rename at the end.

An interrupted run (exception, Ctrl-C) removes its temporary sibling, so the
final path either holds a complete result or does not exist. A run killed
hard (SIGKILL, power loss) can leave a hidden ``.<name>.partial-*`` sibling;
nothing reads those, and :func:`remove_stale_partials` /
:func:`clean_partials` delete them (the writer's pid is in the name).
"""
import contextlib
import os
import os.path as osp
import re
import shutil
import uuid
from typing import Iterator, List

PARTIAL_TAG = '.partial-'
_PARTIAL = re.compile(r'^\..*\.partial-(\d+)-[0-9a-f]{8}')


def partial_prefix(final: str) -> str:
    """The name prefix of the temporary siblings of ``final``."""
    return f'.{osp.basename(osp.normpath(final))}{PARTIAL_TAG}'


def _partial_path(final: str, ext: str = '') -> str:
    """A fresh, unused temporary sibling path of ``final``."""
    return osp.join(
        osp.dirname(final),
        f'{partial_prefix(final)}{os.getpid()}-{uuid.uuid4().hex[:8]}{ext}')


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: str) -> None:
    if osp.isdir(path) and not osp.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _stale(folder: str, prefix: str = '.') -> List[str]:
    """Partial outputs in ``folder`` whose writer process is gone."""
    if not osp.isdir(folder):
        return []
    stale = []
    for name in os.listdir(folder):
        match = _PARTIAL.match(name)
        if name.startswith(prefix) and match \
                and not _pid_alive(int(match.group(1))):
            stale.append(osp.join(folder, name))
    return stale


def remove_stale_partials(final: str) -> int:
    """Delete temporary siblings of ``final`` left by killed runs (those of
    a process still running are kept).

    Returns:
        int: How many were removed.
    """
    final = osp.abspath(final)
    stale = _stale(osp.dirname(final), partial_prefix(final))
    for path in stale:
        _remove(path)
    return len(stale)


def clean_partials(folder: str) -> int:
    """Delete every partial output in ``folder`` left by killed runs.

    Returns:
        int: How many were removed.
    """
    stale = _stale(folder)
    for path in stale:
        _remove(path)
    return len(stale)


@contextlib.contextmanager
def atomic_dir(final: str, replace: bool = False) -> Iterator[str]:
    """Yield a temporary folder that becomes ``final`` when the block ends.

    Args:
        final (str): The folder to create.
        replace (bool): Replace an existing ``final`` (the old one is moved
            aside first and deleted after the rename). If False and
            ``final`` exists, raise FileExistsError.

    Yields:
        str: The temporary folder to write into (a sibling of ``final``).
    """
    final = osp.abspath(final)
    if osp.exists(final) and not replace:
        raise FileExistsError(f'{final} exists already')
    parent = osp.dirname(final)
    os.makedirs(parent, exist_ok=True)
    tmp = _partial_path(final)
    os.mkdir(tmp)
    try:
        yield tmp
        if osp.exists(final):
            old = _partial_path(final)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_file(final: str) -> Iterator[str]:
    """Yield a temporary path (same folder and extension as ``final``) that
    replaces ``final`` when the block ends; removed if the block raises."""
    final = osp.abspath(final)
    parent = osp.dirname(final)
    os.makedirs(parent, exist_ok=True)
    tmp = _partial_path(final, osp.splitext(final)[1])
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    with atomic_file(path) as tmp:
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)

"""Fetch a published checkpoint into a folder, checked against its hash.

mmvid never downloads while loading (see :mod:`.pretrained`); this is the
one explicit step that does, run by hand
(``tools/misc/download_checkpoint.py``):

- the file goes to a hidden temporary sibling of ``<out_dir>/<name>``,
  which is renamed to ``<name>`` only after its sha256 matched; a mismatch
  (or any error, Ctrl-C included) removes it, so nothing is left behind;
- the expected hash is the given one (the full sha256, or a prefix of at
  least 8 hex digits), else the ``-<hex>`` suffix of the file name
  (mmaction2's ``..._20200614-c25ef9a4.pth`` and torchvision's
  ``resnet50-0676ba61.pth`` carry the first 8 hex digits of their sha256),
  else none: the FAIR files publish no hash, and the sha256 is reported so
  that it can be recorded;
- an existing ``<name>`` is never overwritten: it is verified instead (a
  mismatch is an error that says to delete it);
- a zoo model name is looked up in ``metafile.yml`` (``Weights`` URL and
  ``Hash``).

``urllib`` handles ``file://`` URLs too, which the tests use.
"""
import hashlib
import os
import os.path as osp
import re
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from typing import IO, NamedTuple, Optional, Tuple

import yaml

from .durable import commit_partial
from .errors import CheckpointError

#: ``-<hex>`` before the extension: the published sha256 prefix.
_NAME_HASH = re.compile(r'-([0-9a-f]{8,64})\.[A-Za-z0-9]+$')
_HEX = re.compile(r'^[0-9a-f]{8,64}$')
#: ``Hash`` of a metafile entry whose publisher gives none.
NO_HASH = 'none published'
UNCONFIRMED = 'unconfirmed:'
_CHUNK = 1 << 20


class HashMismatchError(CheckpointError):
    """A downloaded or existing file does not have the expected sha256."""


class Fetched(NamedTuple):
    """What :func:`download_checkpoint` did.

    Attributes:
        path (str): The checkpoint file.
        sha256 (str): Its full sha256 (hex).
        expected (str or None): The hash it was checked against.
        downloaded (bool): False when an existing file was verified.
    """
    path: str
    sha256: str
    expected: Optional[str]
    downloaded: bool


def check_hash_arg(value: Optional[str], what: str = 'sha256') -> \
        Optional[str]:
    """``value`` lower-cased and checked to be 8 to 64 hex digits."""
    if value is None:
        return None
    if not isinstance(value, str) or not _HEX.match(value.lower()):
        raise ValueError(f'{what} must be 8 to 64 hex digits (a sha256 or '
                         f'its prefix), got {value!r}')
    return value.lower()


def hash_from_name(filename: str) -> Optional[str]:
    """The sha256 prefix in a file name (``..._20200614-c25ef9a4.pth`` ->
    ``'c25ef9a4'``), or None."""
    found = _NAME_HASH.search(osp.basename(filename))
    return found.group(1) if found else None


def file_name_of(url: str) -> str:
    """The file name a URL ends with (percent-decoded)."""
    name = osp.basename(urllib.parse.unquote(urllib.parse.urlparse(url).path))
    if not name or name in ('.', '..'):
        raise ValueError(f'{url} does not end with a file name')
    return name


def sha256_of(path: str) -> str:
    """The sha256 of a file (hex)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(_CHUNK), b''):
            digest.update(block)
    return digest.hexdigest()


def _check(path: str, actual: str, expected: Optional[str],
           source: str) -> None:
    if expected is not None and not actual.startswith(expected):
        raise HashMismatchError(
            f'{source}: sha256 {actual} does not match the expected '
            f'{expected} ({path})')


class _Progress:
    """``name: 12.0 / 97.7 MiB (12%)`` on one line of ``stream``, redrawn
    at most every 0.2 s and at the end."""

    def __init__(self, name: str, total: Optional[int], stream: IO[str]):
        self.name, self.total, self.stream = name, total, stream
        self.done, self.shown_at = 0, 0.0

    def update(self, size: int, final: bool = False) -> None:
        self.done += size
        now = time.monotonic()
        if not final and now - self.shown_at < 0.2:
            return
        self.shown_at = now
        text = f'{self.name}: {self.done / 2**20:.1f}'
        if self.total:
            text += (f' / {self.total / 2**20:.1f} MiB '
                     f'({100 * self.done // self.total}%)')
        else:
            text += ' MiB'
        self.stream.write('\r' + text + ('\n' if final else ''))
        self.stream.flush()


def _fetch(url: str, partial: str, name: str,
           progress: Optional[IO[str]]) -> str:
    """Write ``url`` into ``partial`` (``name`` on the progress line); its
    sha256."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url) as response, open(partial, 'wb') as out:
        length = response.headers.get('Content-Length')
        bar = None if progress is None else _Progress(
            name, int(length) if length else None, progress)
        for block in iter(lambda: response.read(_CHUNK), b''):
            out.write(block)
            digest.update(block)
            if bar is not None:
                bar.update(len(block))
        if bar is not None:
            bar.update(0, final=True)
    return digest.hexdigest()


def download_checkpoint(url: str,
                        out_dir: str = 'checkpoints',
                        sha256: Optional[str] = None,
                        progress: Optional[IO[str]] = sys.stderr) -> Fetched:
    """Fetch ``url`` into ``out_dir`` (see the module docstring).

    Args:
        url (str): An ``http(s)://`` or ``file://`` URL.
        out_dir (str): The folder (created if missing).
        sha256 (str, optional): The expected sha256 or a prefix of at
            least 8 hex digits. Default: the file name's ``-<hex>`` suffix,
            if any.
        progress (IO, optional): Where the progress line goes (None: none).

    Raises:
        HashMismatchError: The download (removed) or the existing file
            (kept) has another hash; the message names both hashes.
        ValueError: A bad ``sha256`` or a URL without a file name.
        OSError: The download failed (nothing is left behind).
    """
    name = file_name_of(url)
    expected = check_hash_arg(sha256)
    if expected is None:
        expected = hash_from_name(name)
    path = osp.join(out_dir, name)
    if osp.exists(path):
        actual = sha256_of(path)
        _check(path, actual, expected,
               f'existing file {path} (delete it to download again)')
        return Fetched(path, actual, expected, False)
    os.makedirs(out_dir, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=out_dir, prefix=f'.{name}.',
                                   suffix='.partial')
    os.close(fd)
    try:
        actual = _fetch(url, partial, name, progress)
        _check(path, actual, expected,
               f'{url}: download removed, nothing written')
        commit_partial(partial, path)
    finally:
        if osp.exists(partial):
            os.remove(partial)
    return Fetched(path, actual, expected, True)


def zoo_weights(metafile: str, name: str) -> Tuple[str, Optional[str]]:
    """The ``(url, sha256 or None)`` of a model of a ``metafile.yml``.

    Raises:
        KeyError: No model of that name (the message lists the names).
        ValueError: The model has no published weights, its URL is
            unconfirmed, or its ``Hash`` is not hex nor 'none published'.
    """
    with open(metafile, encoding='utf-8') as f:
        models = yaml.safe_load(f).get('Models') or []
    by_name = {model['Name']: model for model in models}
    if name not in by_name:
        raise KeyError(f'{metafile} has no model {name!r}; its models: '
                       f'{", ".join(sorted(by_name))}')
    model = by_name[name]
    url = model.get('Weights')
    if not url:
        raise ValueError(f'{metafile}: {name} has no published weights')
    if url.startswith(UNCONFIRMED):
        raise ValueError(f'{metafile}: {name}: no URL confirmed for its '
                         f'weights ({url[len(UNCONFIRMED):].strip()})')
    value = model.get('Hash', NO_HASH)
    if not isinstance(value, str):  # YAML read digits as a number
        raise ValueError(f'{metafile}: {name}: Hash must be a quoted '
                         f'string, got {value!r}')
    if value == NO_HASH:
        return url, None
    return url, check_hash_arg(value, f'{metafile}: {name}: Hash')

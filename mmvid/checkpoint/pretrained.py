"""``pretrained`` names -> local files; mmvid never downloads."""
import glob
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence

import torch

_TORCHVISION_ROOT = 'https://download.pytorch.org/models/'
#: torchvision ImageNet weights by model name, the preferred file first.
TORCHVISION_URLS: Dict[str, List[str]] = {
    name: [_TORCHVISION_ROOT + file for file in files]
    for name, files in {
        'resnet18': ['resnet18-f37072fd.pth'],
        'resnet34': ['resnet34-b627a593.pth'],
        'resnet50': ['resnet50-0676ba61.pth', 'resnet50-19c8e357.pth'],
        'resnet101': ['resnet101-63fe2227.pth'],
        'resnet152': ['resnet152-394f9c45.pth'],
    }.items()
}
_TORCHVISION_SCHEME = 'torchvision://'
_URL_SCHEMES = ('http://', 'https://')
#: Names a folder of downloaded weights, searched before the others.
CHECKPOINTS_ENV = 'MMVID_CHECKPOINTS'


def _checkpoint_dirs() -> List[str]:
    """Folders searched for weights, in order.

    ``$MMVID_CHECKPOINTS`` (if set), ``./checkpoints`` and
    ``<torch hub dir>/checkpoints``.
    """
    dirs = []
    if os.environ.get(CHECKPOINTS_ENV):
        dirs.append(osp.expanduser(os.environ[CHECKPOINTS_ENV]))
    dirs.append(osp.abspath('checkpoints'))
    dirs.append(osp.join(torch.hub.get_dir(), 'checkpoints'))
    return dirs


def _find_file(basenames: Sequence[str]) -> Optional[str]:
    """The first ``dir/basename`` that exists (basenames may be globs)."""
    for folder in _checkpoint_dirs():
        for basename in basenames:
            found = sorted(glob.glob(osp.join(glob.escape(folder), basename)))
            if found:
                return found[0]
    return None


def _never_downloads(name: str, what: str) -> FileNotFoundError:
    dirs = _checkpoint_dirs()
    return FileNotFoundError(
        f'pretrained={name!r}: mmvid never downloads weights; {what}, and '
        f'put it in {dirs[0]} (searched: {", ".join(dirs)})')


def _resolve_torchvision(name: str) -> str:
    model = name[len(_TORCHVISION_SCHEME):]
    urls = TORCHVISION_URLS.get(model, [])
    basenames = [osp.basename(url) for url in urls]
    found = _find_file(basenames + [f'{model}-*.pth'])
    if found:
        return found
    if not urls:
        raise _never_downloads(
            name, f'mmvid knows no URL for {model!r} (known: '
            f'{", ".join(TORCHVISION_URLS)}); get its torchvision file, '
            f'named {model}-<hash>.pth')
    what = f'download {urls[0]}'
    if len(basenames) > 1:
        what += f' (or {", ".join(basenames[1:])})'
    raise _never_downloads(name, what)


def _resolve_url(url: str) -> str:
    basename = osp.basename(url.split('?', 1)[0].rstrip('/'))
    found = _find_file([glob.escape(basename)]) if basename else None
    if found:
        return found
    raise _never_downloads(url, f'download {url} yourself as {basename}')


def resolve_pretrained(name: str) -> str:
    """The local file for a ``pretrained`` setting; nothing is downloaded.

    Args:
        name: A local path, ``torchvision://<model>`` (e.g.
            ``torchvision://resnet50``) or an ``http(s)://`` URL. Names and
            URLs are looked up by file name in ``$MMVID_CHECKPOINTS``,
            ``./checkpoints`` and ``<torch hub dir>/checkpoints``.

    Returns:
        The path of an existing file.

    Raises:
        FileNotFoundError: if the file is absent; for names and URLs the
            message gives the URL to download and the folder to put it in.
        ValueError: for another ``scheme://``.
    """
    if name.startswith(_TORCHVISION_SCHEME):
        return _resolve_torchvision(name)
    if name.startswith(_URL_SCHEMES):
        return _resolve_url(name)
    if re.match(r'^[a-zA-Z][\w+.-]*://', name):
        raise ValueError(
            f'pretrained={name!r}: unsupported scheme; use a local path, '
            'torchvision://<model> or an http(s):// URL')
    path = osp.expanduser(name)
    if not osp.exists(path):
        raise FileNotFoundError(f'pretrained file not found: {path}')
    return path

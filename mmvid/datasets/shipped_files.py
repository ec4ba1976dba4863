"""Data files mmvid ships beside its configs (the label maps under
``tools/data/``), found from any working folder.

The zoo configs name label maps by their path in a checkout, e.g.
``tools/data/kinetics/label_map_k400.txt``. That path is right when a run
starts in the checkout's root; elsewhere :func:`find_shipped_file` finds
the same file in the installed package (``mmvid/.mim/tools/data/...``,
copied there by ``setup.py``) or in the checkout of an editable install.
"""
import os.path as osp
from typing import List

PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def shipped_file_dirs() -> List[str]:
    """Where shipped files are looked up, in order: the installed package's
    ``.mim`` folder, then the checkout holding the package."""
    return [osp.join(PACKAGE_DIR, '.mim'), osp.dirname(PACKAGE_DIR)]


def find_shipped_file(path: str) -> str:
    """``path`` if it exists (or is absolute, or a URL); else, for a
    relative path, the same file in :func:`shipped_file_dirs` where one has
    it; else ``path`` unchanged, for the reader to report as missing."""
    if osp.exists(path) or osp.isabs(path) or '://' in path:
        return path
    for folder in shipped_file_dirs():
        candidate = osp.join(folder, path)
        if osp.isfile(candidate):
            return candidate
    return path

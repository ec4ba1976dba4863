"""Finding config files: as given, else in the configs an installed mmvid
ships (``mmvid/.mim/configs``, copied there when the wheel is built), else
in the source checkout the package lives in."""
import os.path as osp
from typing import List

PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def config_dirs() -> List[str]:
    """Where configs are looked up, in order: the installed package's
    ``.mim/configs``, then the checkout's ``configs/`` (editable installs
    and source trees)."""
    return [osp.join(PACKAGE_DIR, '.mim', 'configs'),
            osp.join(osp.dirname(PACKAGE_DIR), 'configs')]


def find_config(path: str) -> str:
    """``path`` if it is a file; else the same config in :func:`config_dirs`
    (``configs/recognition/i3d/x.py``, ``recognition/i3d/x.py`` and
    ``./configs/...`` all name the zoo's ``recognition/i3d/x.py``).

    Raises:
        FileNotFoundError: naming ``path`` and the folders searched.
    """
    path = str(path)
    if osp.isfile(path):
        return path
    relative = osp.normpath(path)
    if not osp.isabs(relative):
        if relative.split(osp.sep)[0] == 'configs':
            relative = relative.split(osp.sep, 1)[-1]
        for folder in config_dirs():
            candidate = osp.join(folder, relative)
            if osp.isfile(candidate):
                return candidate
    searched = ', '.join(d for d in config_dirs() if osp.isdir(d))
    raise FileNotFoundError(f'config file not found: {path}' + (
        f' (nor in the installed configs: {searched})' if searched else ''))

"""Finding config files: as given, else in the configs an installed mmvid
ships (``mmvid/.mim/configs``, copied there when the wheel is built), else
in the source checkout the package lives in."""
import ast
import os.path as osp
from typing import List

from mmengine.config import Config

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


def check_config_syntax(path: str) -> None:
    """Parse ``path`` and, recursively, its ``_base_`` files as Python.

    mmengine parses configs without their file names, so a syntax error
    reads ``File "<unknown>", line 2``; this names the file.

    Raises:
        SyntaxError: ``config <file> line <n>: <what>`` (one line).
    """
    with open(path, encoding='utf-8') as f:
        source = f.read()
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as error:
        raise SyntaxError(f'config {path} line {error.lineno}: '
                          f'{error.msg}') from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_'
                for t in node.targets):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:
                return  # computed: mmengine reports what it finds
            for base in [bases] if isinstance(bases, str) else bases:
                base_path = osp.join(osp.dirname(path), base)
                if isinstance(base, str) and osp.isfile(base_path):
                    check_config_syntax(base_path)


def load_config_file(path: str) -> Config:
    """``Config.fromfile`` of :func:`find_config` ``(path)``, after
    :func:`check_config_syntax`. Configs are Python: loading one runs it,
    so load only configs you trust."""
    path = find_config(path)
    check_config_syntax(path)
    return Config.fromfile(path)

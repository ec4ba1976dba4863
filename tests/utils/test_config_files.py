"""find_config: a path as given, else the configs an installed mmvid ships,
else the checkout's; a clear error otherwise."""
import os.path as osp

import pytest

from mmvid.utils import config_files
from mmvid.utils.config_files import find_config
from tests.helpers import REPO

DEMO = 'recognition/i3d/i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py'


def test_a_path_that_exists_is_used_as_given(tmp_path, monkeypatch):
    own = tmp_path / 'configs' / DEMO
    own.parent.mkdir(parents=True)
    own.write_text('model = dict()\n')
    monkeypatch.chdir(tmp_path)
    assert find_config(f'configs/{DEMO}') == f'configs/{DEMO}'


@pytest.mark.parametrize('name', [f'configs/{DEMO}', DEMO,
                                  f'./configs/{DEMO}'])
def test_zoo_names_resolve_from_anywhere(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ here
    assert find_config(name) == osp.join(REPO, 'configs', DEMO)


def test_installed_configs_come_first(tmp_path, monkeypatch):
    package = tmp_path / 'site' / 'mmvid'
    shipped = package / '.mim' / 'configs' / DEMO
    shipped.parent.mkdir(parents=True)
    shipped.write_text('model = dict()\n')
    monkeypatch.setattr(config_files, 'PACKAGE_DIR', str(package))
    monkeypatch.chdir(tmp_path)
    assert find_config(f'configs/{DEMO}') == str(shipped)
    with pytest.raises(FileNotFoundError,
                       match=r'config file not found: configs/none.py \(nor '
                       r'in the installed configs: .*\.mim/configs\)'):
        find_config('configs/none.py')


def test_missing_config_error(tmp_path, monkeypatch):
    monkeypatch.setattr(config_files, 'PACKAGE_DIR', str(tmp_path / 'x'))
    with pytest.raises(FileNotFoundError,
                       match=r'^config file not found: /abs/none.py$'):
        find_config('/abs/none.py')

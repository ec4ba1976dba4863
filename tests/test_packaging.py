"""Packaging as a user meets it: the sdist builds, a wheel builds from the
unpacked sdist and ships the configs, the wheel installed into a fresh venv
runs the console commands and finds the zoo configs; the full-mmcv choice.

Offline and fast: the venv gets mmvid's dependencies from this project's
environment through a ``.pth`` file, and the wheel installs with
``--no-deps``."""
import email
import os
import os.path as osp
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile

import pytest

from mmvid.version import __version__
from tests.helpers import REPO

NAME = f'mmvid-{__version__}'
ZOO = 'configs/recognition/i3d'


def run(cmd, cwd, env=None, check=True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=env,
                          capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, (cmd, done.stdout[-3000:],
                                      done.stderr[-3000:])
    return done


def copy_checkout(dest) -> str:
    """The files git would commit (tracked and untracked-not-ignored), as a
    fresh clone has them: no venv, no build outputs."""
    listed = run(['git', 'ls-files', '-z', '--cached', '--others',
                  '--exclude-standard'], REPO).stdout.split('\0')
    for rel in filter(None, listed):
        src = osp.join(REPO, rel)
        if osp.isfile(src):
            os.makedirs(osp.dirname(osp.join(dest, rel)), exist_ok=True)
            shutil.copy2(src, osp.join(dest, rel))
    return str(dest)


def build_wheel(source, out, **env) -> str:
    run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
         '--no-build-isolation', '-w', out, source], out,
        env=dict(os.environ, **env))
    return osp.join(out, f'{NAME}-py3-none-any.whl')


def wheel_metadata(wheel) -> email.message.Message:
    with zipfile.ZipFile(wheel) as z:
        return email.message_from_string(
            z.read(f'{NAME}.dist-info/METADATA').decode())


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """(sdist, folder it unpacked to, wheel built from that folder)."""
    root = tmp_path_factory.mktemp('packaging')
    source = copy_checkout(root / 'checkout')
    dist = root / 'dist'
    run([sys.executable, 'setup.py', '-q', 'sdist', '-d', dist], source)
    sdist = dist / f'{NAME}.tar.gz'
    with tarfile.open(sdist) as tar:
        tar.extractall(root / 'unpacked', filter='data')
    unpacked = root / 'unpacked' / NAME
    return sdist, unpacked, build_wheel(unpacked, dist)


def zoo_configs(folder) -> set:
    return {f for f in os.listdir(folder) if f.endswith('.py')}


def test_sdist_carries_what_setup_py_reads(built):
    sdist, unpacked, _ = built
    for rel in ('setup.py', 'pyproject.toml', 'MANIFEST.in', 'LICENSE',
                'NOTICE', 'README.md', 'requirements/runtime.txt',
                'requirements/decord.txt', 'requirements/tests.txt',
                'requirements/deploy.txt',
                'mmvid/version.py', f'{ZOO}/README.md'):
        assert osp.isfile(osp.join(unpacked, rel)), rel
    assert zoo_configs(osp.join(unpacked, ZOO)) == \
        zoo_configs(osp.join(REPO, ZOO))


def test_wheel_ships_configs_licence_and_commands(built):
    _, _, wheel = built
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        entry_points = z.read(f'{NAME}.dist-info/entry_points.txt').decode()
    shipped = {osp.basename(n) for n in names
               if n.startswith('mmvid/.mim/configs/recognition/i3d/')
               and n.endswith('.py')}
    assert shipped == zoo_configs(osp.join(REPO, ZOO))
    assert 'mmvid/.mim/configs/_base_/models/i3d_r50.py' in names
    assert {'mmvid/.mim/tools/data/kinetics/label_map_k400.txt',
            'mmvid/.mim/tools/data/hmdb51/label_map.txt',
            'mmvid/.mim/tools/data/ucf101/label_map.txt'} <= names
    assert {f'{NAME}.dist-info/licenses/LICENSE',
            f'{NAME}.dist-info/licenses/NOTICE'} <= names or \
        {f'{NAME}.dist-info/LICENSE', f'{NAME}.dist-info/NOTICE'} <= names
    assert not any(n.startswith('tests/') for n in names)
    for line in ('mmvid = mmvid.cli.main:main',
                 'mmvid-train = mmvid.cli.train:run',
                 'mmvid-test = mmvid.cli.test:run',
                 'mmvid-benchmark = mmvid.cli.benchmark:run'):
        assert line in entry_points
    meta = wheel_metadata(wheel)
    assert meta['License'] == 'Apache-2.0'
    requires = meta.get_all('Requires-Dist')
    assert 'mmcv-lite>=2.0' in requires
    # decord is an extra, not a requirement
    assert 'decord>=0.6.0; extra == "decord"' in requires
    assert not any(r.startswith('decord') and 'extra' not in r
                   for r in requires)


def test_installed_wheel_runs_the_commands_and_finds_the_zoo(
        built, tmp_path):
    _, _, wheel = built
    venv = tmp_path / 'venv'
    run([sys.executable, '-m', 'venv', '--without-pip', venv], tmp_path)
    python = venv / 'bin' / 'python'
    site = run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()'
                '["purelib"])'], tmp_path).stdout.strip()
    # the dependencies from this environment (its .pth files, and with them
    # an editable mmvid, are not processed from a path entry)
    with open(osp.join(site, 'project_deps.pth'), 'w') as f:
        f.write(sysconfig.get_paths()['purelib'] + '\n')
    run([sys.executable, '-m', 'pip', '--python', python, 'install', '-q',
         '--no-deps', '--no-index', wheel], tmp_path)
    cwd = tmp_path / 'elsewhere'  # no configs/ and no mmvid/ here
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}

    helped = run([venv / 'bin' / 'mmvid-test', '--help'], cwd, env)
    assert helped.stdout.startswith('usage: mmvid-test')
    assert '--fast' in helped.stdout and '--eval' in helped.stdout
    listed = run([venv / 'bin' / 'mmvid', '--help'], cwd, env).stdout
    assert 'train' in listed and 'test' in listed and 'benchmark' in listed
    wrong = run([venv / 'bin' / 'mmvid', 'tain'], cwd, env, check=False)
    assert wrong.returncode == 2
    assert "mmvid: unknown command 'tain'" in wrong.stderr

    code = ('import mmvid\n'
            'from mmvid.apis import init_recognizer\n'
            f'model = init_recognizer("{ZOO}/i3d_r50_32x2x1_100e_'
            'kinetics400_rgb.py")\n'
            'print(mmvid.__file__)\n'
            'print(model.cfg.filename)\n'
            'print(sum(p.numel() for p in model.parameters()))\n'
            'from mmvid.datasets.annotation import load_label_map\n'
            'names = load_label_map(model.cfg.test_dataloader.dataset'
            '.label_file)\n'
            'print(len(names), names[0])\n')
    package, config, params, classes, first = run(
        [python, '-c', code], cwd, env).stdout.split()
    # the config's tools/data/kinetics/label_map_k400.txt, from the wheel
    assert (classes, first) == ('400', 'abseiling')
    assert package.startswith(site) and config.startswith(site)
    assert config.endswith(f'mmvid/.mim/{ZOO}/i3d_r50_32x2x1_100e_'
                           'kinetics400_rgb.py')
    assert int(params) == 28043472  # I3D R50, as mmaction2


def test_full_mmcv_is_a_documented_build_choice(tmp_path):
    source = copy_checkout(tmp_path / 'checkout')
    full = build_wheel(source, tmp_path, MMVID_MMCV='full')
    requires = wheel_metadata(full).get_all('Requires-Dist')
    assert 'mmcv>=2.0' in requires
    assert not any(r.startswith('mmcv-lite') for r in requires)
    bad = subprocess.run(
        [sys.executable, 'setup.py', '--name'], cwd=source,
        env=dict(os.environ, MMVID_MMCV='fulll'), capture_output=True,
        text=True)
    assert bad.returncode != 0
    assert "MMVID_MMCV must be one of ['full', 'lite'], got 'fulll'" in \
        bad.stderr

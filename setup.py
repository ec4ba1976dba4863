"""Install mmvid: ``pip install -e .[tests]`` (the Makefile installs the
pinned torch first).

Extras: ``decord`` (the decord video reader), ``pyav`` (PyAV),
``torchcodec`` (torchcodec; it needs FFmpeg's shared libraries on the
system and the release that matches the installed torch), ``deploy``
(onnx, onnxscript, onnxruntime, openvino: export and run exported models),
``tests``.
mmcv: ``mmcv-lite`` by default; ``MMVID_MMCV=full pip install .`` requires
the full ``mmcv`` instead (for users who already have it, so that pip does
not install mmcv-lite beside it: both provide the ``mmcv`` package). The
choice is made from that variable alone, never from what happens to be
installed, so it is the same with or without build isolation.

Building a wheel copies ``configs/`` into the package as
``mmvid/.mim/configs``, where the tools find them when mmvid is installed.
"""
import glob
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))
MMCV_CHOICES = {'lite': 'mmcv-lite>=2.0', 'full': 'mmcv>=2.0'}


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt`` without comments."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


def mmcv_requirement() -> str:
    """``MMVID_MMCV`` (``lite``, the default, or ``full``) -> requirement."""
    choice = os.environ.get('MMVID_MMCV', 'lite').strip().lower() or 'lite'
    if choice not in MMCV_CHOICES:
        raise SystemExit(f'MMVID_MMCV must be one of {sorted(MMCV_CHOICES)}, '
                         f'got {choice!r}')
    return MMCV_CHOICES[choice]


def read_version() -> str:
    namespace = {}
    with open(osp.join(HERE, 'mmvid', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


class BuildWithConfigs(build_py):
    """``build_py`` that also ships ``configs/`` as ``mmvid/.mim/configs``
    and the label maps as ``mmvid/.mim/tools/data/*/label_map*.txt`` (an
    editable install reads the checkout's files directly)."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        target = osp.join(self.build_lib, 'mmvid', '.mim', 'configs')
        if osp.isdir(target):
            shutil.rmtree(target)
        shutil.copytree(osp.join(HERE, 'configs'), target,
                        ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        # the label maps the configs name (tools/data/*/label_map*.txt)
        for src in glob.glob(osp.join(HERE, 'tools', 'data', '*',
                                      'label_map*.txt')):
            dst = osp.join(self.build_lib, 'mmvid', '.mim',
                           osp.relpath(src, HERE))
            os.makedirs(osp.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)


setup(
    name='mmvid',
    version=read_version(),
    description='Video action recognition toolbox centred on I3D, '
    'built on mmengine and mmcv',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(include=['mmvid', 'mmvid.*']),
    install_requires=read_requirements('runtime') + [mmcv_requirement()],
    extras_require={
        'decord': read_requirements('decord'),
        'pyav': read_requirements('pyav'),
        'torchcodec': read_requirements('torchcodec'),
        'deploy': read_requirements('deploy'),
        'tests': read_requirements('tests'),
    },
    entry_points={'console_scripts': [
        'mmvid = mmvid.cli.main:main',
        'mmvid-train = mmvid.cli.train:run',
        'mmvid-test = mmvid.cli.test:run',
        'mmvid-benchmark = mmvid.cli.benchmark:run',
    ]},
    cmdclass={'build_py': BuildWithConfigs},
    zip_safe=False,
)

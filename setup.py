"""Install mmvid: ``pip install -e .[tests]`` (the Makefile installs the pinned torch first)."""
import os.path as osp
from importlib import metadata

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt`` without comments."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


def mmcv_requirement() -> str:
    """``mmcv-lite>=2.0``, unless a full ``mmcv>=2.0`` is installed already.

    mmcv and mmcv-lite provide the same ``mmcv`` package; installing both
    breaks it, so a present full mmcv is kept (install with
    ``--no-build-isolation`` so this check sees the target environment).
    """
    try:
        metadata.version('mmcv')
    except metadata.PackageNotFoundError:
        return 'mmcv-lite>=2.0'
    return 'mmcv>=2.0'


def read_version() -> str:
    namespace = {}
    with open(osp.join(HERE, 'mmvid', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


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
    extras_require={'tests': read_requirements('tests')},
    zip_safe=False,
)

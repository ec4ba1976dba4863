"""The benchmark scripts import ``benchkit`` and each other as sibling
modules (``python benchmarks/<script>.py`` puts ``benchmarks/`` first on
``sys.path``): the tests put ``benchmarks/`` on ``sys.path`` the same way.
The scripts' memory workers are fresh interpreters started from
``benchmarks/``: ``PYTHONPATH`` makes them import this checkout's mmvid, the
one the tests import."""
import os
import os.path as osp
import sys

import pytest

from tests.helpers import REPO

BENCHMARKS = osp.join(REPO, 'benchmarks')
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)


@pytest.fixture(scope='session', autouse=True)
def workers_import_this_checkout():
    """``PYTHONPATH`` with the repository root first, for the session."""
    paths = [REPO] + [p for p in os.environ.get('PYTHONPATH', '').split(
        os.pathsep) if p]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('PYTHONPATH', os.pathsep.join(paths))
        yield

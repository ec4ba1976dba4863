"""The floors of docs/architecture.md hold: every module of ``mmvid/`` is on a
declared floor, imports only its own package and lower floors, and the
import graph (imports inside functions included) has no cycle. The old
import paths warn and are imported by nothing in mmvid."""
import ast
import importlib
import os
import os.path as osp
import re
import sys
import warnings
from typing import Dict, List, Set, Tuple

import pytest

from tests.helpers import REPO

PACKAGE = osp.join(REPO, 'mmvid')
DOC = osp.join(REPO, 'docs', 'architecture.md')


def read_doc() -> str:
    with open(DOC) as f:
        return f.read()


def declared_floors(doc: str) -> Dict[str, int]:
    """``{package: floor}`` from the fenced block after the layers marker."""
    match = re.search(r'<!-- layers:[^>]*-->\s*```text\n(.*?)```', doc, re.S)
    assert match, 'docs/architecture.md: no layers block'
    floors = {}
    for line in match.group(1).strip().splitlines():
        floor, *packages = line.split()
        for package in packages:
            assert package not in floors, f'{package} declared twice'
            floors[package] = int(floor)
    return floors


def deprecated_paths(doc: str) -> Dict[str, str]:
    """``{old module: new module}`` from the table after its marker."""
    start = doc.index('<!-- deprecated:')
    rows = re.findall(r'^\| `([\w.]+)` \| `([\w.]+)`', doc[start:], re.M)
    assert rows, 'docs/architecture.md: no deprecated-paths table'
    return dict(rows)


def module_files() -> Dict[str, str]:
    """``{dotted module name: file}`` of every module under mmvid/."""
    modules = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(folder, name)
            parts = osp.relpath(path, REPO)[:-3].split(os.sep)
            if parts[-1] == '__init__':
                parts.pop()
            modules['.'.join(parts)] = path
    return modules


def imports_of(module: str, path: str, modules: Dict[str, str]) -> Set[str]:
    """The mmvid modules ``module`` imports anywhere in its file (an
    imported name that is not a module counts as its module), with the
    parent packages that importing them runs."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    package = module if path.endswith('__init__.py') else \
        module.rpartition('.')[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) -
                                          node.level + 1]
                base = '.'.join(base + ([node.module] if node.module else []))
            else:
                base = node.module or ''
            targets = [f'{base}.{alias.name}' for alias in node.names]
            targets = [t if t in modules else base for t in targets]
        else:
            continue
        for target in targets:
            if target != 'mmvid' and not target.startswith('mmvid.'):
                continue
            while target not in modules and '.' in target:
                target = target.rpartition('.')[0]
            found.update(with_parent_packages(target, module))
    found.discard(module)
    return found


def with_parent_packages(target: str, importer: str) -> List[str]:
    """``target`` and the packages Python runs first when ``importer``
    imports it: its parent packages, except those of ``importer`` itself
    (already being imported)."""
    parts = target.split('.')
    own = importer.split('.')
    chain = ['.'.join(parts[:i]) for i in range(1, len(parts) + 1)]
    return [name for name in chain
            if own[:len(name.split('.'))] != name.split('.')]


def package_of(module: str, floors: Dict[str, int]) -> str:
    """The declared package holding ``module`` (longest prefix; ``mmvid``
    itself only for the root module)."""
    if module == 'mmvid':
        return 'mmvid'
    candidates = [p for p in floors if p != 'mmvid'
                  and (module == p or module.startswith(p + '.'))]
    return max(candidates, key=len) if candidates else ''


def find_cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One import cycle as a list of modules, or [] (depth-first search)."""
    state: Dict[str, int] = {}  # 1: on the stack, 2: done
    stack: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def layer_violations(graph: Dict[str, Set[str]],
                     floors: Dict[str, int]) -> Tuple[list, list]:
    """(modules on no declared floor, imports that go up or sideways)."""
    unplaced = sorted(m for m in graph if not package_of(m, floors))
    wrong = []
    for module, targets in sorted(graph.items()):
        src = package_of(module, floors)
        for target in sorted(targets):
            dst = package_of(target, floors)
            if not src or not dst or src == dst:
                continue
            if floors[dst] >= floors[src]:
                way = 'sideways' if floors[dst] == floors[src] else 'up'
                wrong.append(f'{module} (floor {floors[src]}) imports '
                             f'{target} (floor {floors[dst]}): {way}')
    return unplaced, wrong


@pytest.fixture(scope='module')
def architecture():
    doc = read_doc()
    modules = module_files()
    deprecated = deprecated_paths(doc)
    graph = {m: imports_of(m, p, modules) for m, p in modules.items()
             if m not in deprecated}
    return declared_floors(doc), deprecated, graph


def test_no_import_cycle(architecture):
    _, _, graph = architecture
    assert find_cycle(graph) == []


def test_every_import_points_down(architecture):
    floors, _, graph = architecture
    unplaced, wrong = layer_violations(graph, floors)
    assert unplaced == [], 'modules on no floor of docs/architecture.md'
    assert wrong == []


def test_nothing_imports_the_old_paths(architecture):
    _, deprecated, graph = architecture
    users = sorted(f'{m} imports {t}' for m, targets in graph.items()
                   for t in targets if t in deprecated)
    assert users == []


def test_the_checks_catch_what_they_are_for():
    """The helpers on a made-up graph: a cycle, an upward and a sideways
    import are found."""
    floors = {'mmvid': 0, 'mmvid.low': 1, 'mmvid.a': 2, 'mmvid.b': 2,
              'mmvid.top': 3}
    graph = {'mmvid.low.x': {'mmvid.top.cli'}, 'mmvid.a.m': {'mmvid.b.n'},
             'mmvid.top.cli': {'mmvid.a.m', 'mmvid.low.x'},
             'mmvid.b.n': set(), 'mmvid.other': set()}
    assert find_cycle(graph) == ['mmvid.low.x', 'mmvid.top.cli',
                                 'mmvid.low.x']
    unplaced, wrong = layer_violations(graph, floors)
    assert unplaced == ['mmvid.other']
    # importing a module runs its parent packages, but not the importer's
    assert with_parent_packages('mmvid.utils.checkpoint.x',
                                'mmvid.apis.inference') == [
        'mmvid.utils', 'mmvid.utils.checkpoint', 'mmvid.utils.checkpoint.x']
    assert with_parent_packages('mmvid.models.common',
                                'mmvid.models.backbones.resnet3d') == [
        'mmvid.models.common']
    assert wrong == [
        'mmvid.a.m (floor 2) imports mmvid.b.n (floor 2): sideways',
        'mmvid.low.x (floor 1) imports mmvid.top.cli (floor 3): up']


def test_the_doc_lists_every_package():
    """Each package folder of mmvid/ has a floor, and each declared package
    exists."""
    floors = declared_floors(read_doc())
    folders = {f'mmvid.{name}' for name in os.listdir(PACKAGE)
               if osp.isfile(osp.join(PACKAGE, name, '__init__.py'))}
    files = {f'mmvid.{name[:-3]}' for name in os.listdir(PACKAGE)
             if name.endswith('.py') and name != '__init__.py'}
    assert folders | files | {'mmvid'} == set(floors)


@pytest.mark.parametrize('old', sorted(deprecated_paths(read_doc())))
def test_old_paths_still_import_with_a_warning(old):
    new = deprecated_paths(read_doc())[old]
    for name in [m for m in sys.modules if m == old or
                 m.startswith(old + '.')]:
        del sys.modules[name]  # import it afresh: the warning is on import
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        module = importlib.import_module(old)
    messages = [str(w.message) for w in caught
                if issubclass(w.category, DeprecationWarning)]
    assert f'{old} moved to {new}; the old path will be removed in the ' \
        'next release' in messages
    new_module = importlib.import_module(new)
    for name in getattr(new_module, '__all__', ()):
        assert getattr(module, name) is getattr(new_module, name), name

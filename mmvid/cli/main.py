"""The ``mmvid`` command: ``mmvid train|test|benchmark|export ...`` runs the
same code as ``tools/train.py``, ``tools/test.py``,
``tools/analysis/benchmark.py`` and ``tools/deployment/export.py`` (and
``mmvid-train``, ``mmvid-test``, ``mmvid-benchmark``)."""
import importlib
import sys
from typing import List, Optional

COMMANDS = {
    'train': ('mmvid.cli.train', 'train a recognizer'),
    'test': ('mmvid.cli.test', 'test a checkpoint'),
    'benchmark': ('mmvid.cli.benchmark', 'inference speed and memory'),
    'export': ('mmvid.cli.export', 'export to ONNX / OpenVINO / TorchScript '
               '/ torch.export and check'),
}


def usage() -> str:
    lines = ['usage: mmvid {' + ','.join(COMMANDS) + '} ...', '',
             'commands:']
    lines += [f'  {name:<10} {what}' for name, (_, what) in COMMANDS.items()]
    lines += ['', "'mmvid COMMAND --help' lists a command's flags."]
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    """Dispatch ``argv`` (default: the command line) to a command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(usage())
        sys.exit(0 if argv else 2)
    if argv[0] not in COMMANDS:
        print(f'mmvid: unknown command {argv[0]!r}\n\n{usage()}',
              file=sys.stderr)
        sys.exit(2)
    module = importlib.import_module(COMMANDS[argv[0]][0])
    sys.argv = [f'mmvid {argv[0]}'] + argv[1:]  # argparse's program name
    module.run(argv[1:])

"""Pieces shared by the data preparation command lines in ``tools/data/``.

* ``make_parser``: the argument parser, with the tool's docstring and
  examples printed by ``--help`` as written;
* ``add_level_arg``: the ``--level`` flag of the tools that walk a dataset
  folder;
* ``fail``: print ``error: ...`` on stderr and give the exit status 1;
* ``run_batch``: run a folder-level batch, print its summary and give the
  exit status (1 when an input failed).
"""
import argparse
import sys
from typing import Callable, Optional, Tuple, Type, Union

from .batch import BatchReport


def make_parser(description: str, epilog: str) -> argparse.ArgumentParser:
    """A parser whose ``--help`` prints ``description`` (the tool's
    docstring) and ``epilog`` (its examples) with their line breaks."""
    return argparse.ArgumentParser(
        description=description, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter)


def add_level_arg(parser: argparse.ArgumentParser,
                  default: Optional[int] = 2) -> None:
    """Add ``--level``: 2 for ``<class>/<name>.<ext>`` folders, 1 for the
    files directly in the folder (``default`` None: both)."""
    parser.add_argument(
        '--level', type=int, default=default, choices=[1, 2],
        help='1: videos directly in the folder; 2: in class subfolders '
        f'(default: {default or "both"})')


def fail(error: Union[str, BaseException]) -> int:
    """Print ``error: ERROR`` on stderr; return the exit status 1."""
    print(f'error: {error}', file=sys.stderr)
    return 1


def run_batch(run: Callable[[], BatchReport],
              errors: Union[Type[Exception], Tuple[Type[Exception], ...]]
              ) -> int:
    """The exit status of a folder-level batch command.

    Calls ``run()``; where it raises one of ``errors`` (bad arguments,
    missing folder or program: nothing was done) prints the error with
    :func:`fail` and returns 1. Otherwise prints the report's summary and
    returns 0, or 1 when an input failed.
    """
    try:
        report = run()
    except errors as e:
        return fail(e)
    print(report.summary())
    return 0 if report.ok else 1

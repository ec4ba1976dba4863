"""Inference speed and memory: ``python tools/analysis/benchmark.py CONFIG [--fast]``.

The code is :mod:`mmvid.cli.benchmark`; installed, the same command is ``mmvid-benchmark CONFIG ...``.
``python {this file} --help`` lists the flags and examples.
"""
from mmvid.cli.benchmark import run

if __name__ == '__main__':
    run()

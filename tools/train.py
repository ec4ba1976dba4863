"""Train a recognizer: ``python tools/train.py CONFIG --validate --seed 0 --deterministic``.

The code is :mod:`mmvid.cli.train`; installed, the same command is ``mmvid-train CONFIG ...``.
``python {this file} --help`` lists the flags and examples.
"""
from mmvid.cli.train import run

if __name__ == '__main__':
    run()

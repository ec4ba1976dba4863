"""Test a checkpoint: ``python tools/test.py CONFIG CKPT --eval top_k_accuracy --out result.json``.

The code is :mod:`mmvid.cli.test`; installed, the same command is ``mmvid-test CONFIG CKPT ...``.
``python {this file} --help`` lists the flags and examples.
"""
from mmvid.cli.test import run

if __name__ == '__main__':
    run()

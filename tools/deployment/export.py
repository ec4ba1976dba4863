"""Export a checkpoint and check it: ``python tools/deployment/export.py CONFIG CKPT --format onnx``.

The code is :mod:`mmvid.cli.export`; installed, the same command is ``mmvid export CONFIG CKPT ...``.
``python {this file} --help`` lists the flags and examples.
"""
from mmvid.cli.export import run

if __name__ == '__main__':
    run()

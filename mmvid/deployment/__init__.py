"""Exporting a recognizer to ONNX, OpenVINO, TorchScript or a
``torch.export`` program, checking the exported file against eager, and
running it in place of the torch model (:mod:`~mmvid.deployment.
scores_model`, :mod:`~mmvid.deployment.export`, :mod:`~mmvid.deployment.
backends`, :mod:`~mmvid.deployment.check`, :mod:`~mmvid.deployment.
recognizer`). The runtimes are optional: ``pip install 'mmvid[deploy]'``."""
from .backends import BACKENDS, FORMAT_BACKEND, ExportedRunner, load_exported
from .check import ExportCheck, check_export
from .export import DYNAMIC, FORMATS, export_model, output_files
from .optional import DEPLOY_HINT, require
from .recognizer import ExportedRecognizer
from .scores_model import ScoresModel, default_clip_shape

__all__ = [
    'BACKENDS', 'DEPLOY_HINT', 'DYNAMIC', 'FORMATS', 'FORMAT_BACKEND',
    'ExportCheck', 'ExportedRecognizer', 'ExportedRunner', 'ScoresModel',
    'check_export', 'default_clip_shape', 'export_model', 'load_exported',
    'output_files', 'require'
]

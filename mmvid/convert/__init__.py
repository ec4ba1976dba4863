"""Converting FAIR-lineage I3D checkpoints to mmvid checkpoints.

Each source has a reader that maps its names to mmvid's and reports what
it skipped; one fit step checks the result against a model built from an
mmvid config and completes it; the result is saved atomically and loads
strictly with ``init_recognizer(config, out)``.

========================  =================================================
format                    files
========================  =================================================
``caffe2``                video-nonlocal-net / PySlowFast model zoo ``.pkl``
                          (Python 2 pickles, read without running code),
                          frozen-BN "affine" files, the Caffe2 ImageNet R50
``pyslowfast``            PySlowFast ``.pyth`` (also ``R50_IN1K.pyth``)
``pytorchvideo``          PyTorchVideo hub ``I3D_8x8_R50.pyth``
``tusharn``               Tushar-N ``i3d_r50[_nl]_kinetics.pth``
``torchvision``           torchvision ImageNet ResNet ``.pth`` (inflated)
========================  =================================================

It sits above ``mmvid.models`` and ``mmvid.apis`` (it builds models from
configs); ``mmvid.checkpoint`` below it only loads files safely.
"""
from .api import READERS, build_model, convert_checkpoint
from .caffe2 import map_caffe2_blobs, read_caffe2
from .caffe2_pickle import ALLOWED_GLOBALS, Caffe2Unpickler, load_caffe2_pickle
from .fit import fit_to_model
from .mapped import MappedCheckpoint
from .pyslowfast import map_pyslowfast_state, read_pyslowfast
from .pytorchvideo import map_pytorchvideo_state, read_pytorchvideo
from .report import ConversionReport, ReportEntry, format_report
from .save import save_converted
from .torchvision import map_torchvision_state, read_torchvision
from .tusharn import map_tusharn_state, read_tusharn

__all__ = [
    'READERS', 'build_model', 'convert_checkpoint', 'fit_to_model',
    'save_converted', 'MappedCheckpoint', 'ConversionReport', 'ReportEntry',
    'format_report', 'load_caffe2_pickle', 'Caffe2Unpickler',
    'ALLOWED_GLOBALS', 'map_caffe2_blobs', 'read_caffe2',
    'map_pyslowfast_state', 'read_pyslowfast', 'map_pytorchvideo_state',
    'read_pytorchvideo', 'map_tusharn_state', 'read_tusharn',
    'map_torchvision_state', 'read_torchvision'
]

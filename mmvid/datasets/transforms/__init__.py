"""Pipeline transforms, registered in ``mmvid.registry.TRANSFORMS``.

One module per concern: sampling (``sampling``, index math in
``frame_indices``), decoding (``rawframe_decode``, ``decord_decode``,
``opencv_decode``, ``pyav_decode``, ``torchcodec_decode``), geometry
(``resize``, ``crop``, ``flip``, lazy mode in ``lazy``), colour (``color``)
and packing (``formatting``).
"""
from .base import VideoTransform, sample_rng
from .color import ColorJitter, Normalize
from .crop import (CenterCrop, MultiScaleCrop, RandomCrop, RandomResizedCrop,
                   TenCrop, ThreeCrop)
from .decord_decode import DecordDecode, DecordInit
from .flip import Flip
from .formatting import FormatShape, PackActionInputs
from .lazy import Fuse
from .opencv_decode import OpenCVDecode, OpenCVInit
from .pyav_decode import PyAVDecode, PyAVInit
from .rawframe_decode import RawFrameDecode
from .resize import Resize
from .sampling import DenseSampleFrames, SampleFrames, UntrimmedSampleFrames
from .threads import limit_decoder_threads
from .torchcodec_decode import TorchCodecDecode, TorchCodecInit

__all__ = [
    'VideoTransform', 'sample_rng', 'SampleFrames', 'DenseSampleFrames',
    'UntrimmedSampleFrames', 'RawFrameDecode', 'DecordInit', 'DecordDecode',
    'OpenCVInit', 'OpenCVDecode', 'PyAVInit', 'PyAVDecode', 'TorchCodecInit',
    'TorchCodecDecode', 'Resize', 'RandomCrop', 'CenterCrop',
    'MultiScaleCrop', 'RandomResizedCrop', 'ThreeCrop', 'TenCrop', 'Flip',
    'Normalize', 'ColorJitter', 'Fuse', 'FormatShape', 'PackActionInputs',
    'limit_decoder_threads'
]

"""Batch the pipeline's uint8 clips, move them to the model's device, and
normalise them there (cheaper than normalising on the loader's CPU); in
training, optionally blend the batch (MixUp / CutMix, ``blending.py``)."""
from typing import Optional, Sequence, Union

import torch
from mmengine.model import BaseDataPreprocessor

from mmvid.registry import MODELS

# Channel axis of one sample ``[views, C, T, H, W]`` / ``[views, C, H, W]``.
FORMAT_SHAPES = {'NCTHW': 5, 'NCHW': 4}


def build_blending(cfg: dict):
    """Build ``cfg`` (a dict with ``type``) through ``MODELS``."""
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError('ActionDataPreprocessor: blending must be a config '
                        "dict with a 'type' (e.g. dict(type='MixupBlending', "
                        f'num_classes=400, alpha=0.2)), got {cfg!r}')
    return MODELS.build(cfg)


@MODELS.register_module()
class ActionDataPreprocessor(BaseDataPreprocessor):
    """``(x - mean) / std`` on the device, per channel.

    Args:
        mean / std: Per-channel statistics (RGB order, 0-255 scale), or None
            for no normalisation.
        to_rgb: Swap the channel order (BGR -> RGB) first.
        to_float32: Cast to float32 (when not normalising).
        format_shape: ``'NCTHW'`` (3D models) or ``'NCHW'`` (2D).
        non_blocking: copy the (pinned, uint8) batch to the device without
            waiting for the copy (``Tensor.to(non_blocking=True)``); the
            stacking and normalisation that follow run on the device in
            stream order. No effect on the CPU.
        blending: Config of a batch blending (``MixupBlending`` /
            ``CutmixBlending``, built through ``MODELS``) or None. Applied
            after normalisation, in training only (``training=True``): it
            mixes the inputs and replaces each data sample's ``gt_label`` by
            a soft label ``[num_classes]``.

    ``data['inputs']`` is a list of ``[views, C, T, H, W]`` tensors (or one
    stacked tensor); the output is ``[B, views, C, T, H, W]`` float.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 to_rgb: bool = False,
                 to_float32: bool = True,
                 format_shape: str = 'NCTHW',
                 non_blocking: bool = True,
                 blending: Optional[dict] = None) -> None:
        super().__init__(non_blocking=non_blocking)
        if format_shape not in FORMAT_SHAPES:
            raise ValueError(f'format_shape must be one of '
                             f'{tuple(FORMAT_SHAPES)}, got {format_shape!r}')
        if (mean is None) != (std is None):
            raise ValueError('give both mean and std, or neither')
        self.format_shape = format_shape
        self.to_rgb = to_rgb
        self.to_float32 = to_float32
        self.normalize = mean is not None
        self.blending = None if blending is None else build_blending(blending)
        if self.normalize:
            if len(mean) != len(std):
                raise ValueError(f'mean has {len(mean)} entries, std '
                                 f'{len(std)}')
            # broadcast over [B, views, C, (T,) H, W]
            shape = (-1, ) + (1, ) * (FORMAT_SHAPES[format_shape] - 2)
            self.register_buffer(
                'mean', torch.tensor(mean, dtype=torch.float32).view(shape),
                persistent=False)
            self.register_buffer(
                'std', torch.tensor(std, dtype=torch.float32).view(shape),
                persistent=False)

    def stack_inputs(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]
                     ) -> torch.Tensor:
        if isinstance(inputs, torch.Tensor):
            return inputs
        shapes = {tuple(x.shape) for x in inputs}
        if len(shapes) != 1:
            raise ValueError('cannot batch samples of different shapes '
                             f'{sorted(shapes)}; give the pipeline a fixed '
                             'crop size and clip length')
        return torch.stack(list(inputs))

    def forward(self, data: dict, training: bool = False) -> dict:
        """Returns ``dict(inputs=[B, views, C, T, H, W], data_samples=...)``."""
        data = self.cast_data(data)
        inputs = self.stack_inputs(data['inputs'])
        expected = FORMAT_SHAPES[self.format_shape] + 1
        if inputs.dim() != expected:
            raise ValueError(f'format_shape {self.format_shape} expects '
                             f'{expected}-D batched inputs, got shape '
                             f'{tuple(inputs.shape)}')
        if self.to_rgb:
            inputs = inputs.flip(2)
        if self.normalize:
            inputs = (inputs.float() - self.mean) / self.std
        elif self.to_float32:
            inputs = inputs.float()
        data_samples = data.get('data_samples')
        if training and self.blending is not None:
            if data_samples is None:
                raise ValueError('blending needs the data_samples (labels) '
                                 'of the training batch, got none')
            inputs, data_samples = self.blending(inputs, data_samples)
        return dict(inputs=inputs, data_samples=data_samples)

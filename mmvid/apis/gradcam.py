"""Grad-CAM for 3D recognizers: where in one clip the evidence for a class
lies.

For a target layer with output ``A`` ``[C, T', H', W']`` and the target
class's score ``y`` (the head's logit, before softmax)::

    w_c = mean over T', H', W' of dy / dA_c         (one weight per channel)
    cam = ReLU(sum_c w_c * A_c)                     [T', H', W']

The map keeps the layer's time steps; it is upsampled (trilinear) to the
clip's ``T x H x W`` and scaled to ``[0, 1]`` by its minimum and maximum
over the whole clip (all zeros when it is constant). The clip is one view
(the first by default) of the config's test pipeline, normalised by the
recognizer's data preprocessor exactly as ``test_step`` normalises it.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate

from mmvid.apis.inference import prepare_test_inputs


@dataclass
class GradCAMResult:
    """Grad-CAM of one clip.

    Attributes:
        cam: ``[T, H, W]`` float in ``[0, 1]``, the clip's size.
        frames: ``[T, H, W, 3]`` uint8 RGB, the clip as the pipeline gave
            it (before normalisation).
        target_class: The class the map explains.
        scores: ``[K]`` the clip's logits.
        target_layer: Name of the layer the map was taken at.
    """
    cam: torch.Tensor
    frames: np.ndarray
    target_class: int
    scores: torch.Tensor
    target_layer: str


def default_target_layer(model: nn.Module) -> str:
    """The last block of the backbone's last stage, e.g.
    ``'backbone.layer4.1'`` for a ResNet3d-18, ``'backbone.layer4.2'`` for
    a ResNet3d-50."""
    backbone = getattr(model, 'backbone', None)
    stages = getattr(backbone, 'res_layers', None)
    if not stages:
        raise ValueError('the model has no backbone with res_layers (a '
                         'ResNet3d); give the target layer by name')
    last = getattr(backbone, stages[-1])
    return f'backbone.{stages[-1]}.{len(last) - 1}'


def candidate_layers(model: nn.Module) -> List[str]:
    """The backbone's modules down to its blocks (``backbone.conv1``,
    ``backbone.layer4``, ``backbone.layer4.1``): the names an error
    suggests."""
    return [
        name for name, _ in model.named_modules()
        if name.startswith('backbone.') and name.count('.') <= 2
    ]


def find_layer(model: nn.Module, name: str) -> nn.Module:
    """The submodule called ``name`` (as in ``model.named_modules()``).

    Raises:
        ValueError: No such module; the message lists
            :func:`candidate_layers`.
    """
    modules = dict(model.named_modules(remove_duplicate=False))
    if not name or name not in modules:
        raise ValueError(
            f'no layer {name!r} in the model; valid target layers: '
            f'{", ".join(candidate_layers(model))} (or any module name of '
            'model.named_modules() whose output is [N, C, T, H, W])')
    return modules[name]


def resolve_target_class(target: Union[int, str, None],
                         num_classes: int,
                         class_names: Optional[Sequence[str]] = None
                         ) -> Optional[int]:
    """A class index from an index, a digit string or a class name; None
    stays None (the clip's top-1 class).

    Raises:
        ValueError: index out of ``[0, num_classes)``, an unknown name (the
            message lists the names), a name without ``class_names``, or
            ``class_names`` not of length ``num_classes``.
    """
    if class_names is not None and len(class_names) != num_classes:
        raise ValueError(f'{len(class_names)} class names for a model with '
                         f'{num_classes} classes')
    if target is None:
        return None
    if isinstance(target, str) and target.strip().isdigit():
        target = int(target)
    if isinstance(target, (int, np.integer)) \
            and not isinstance(target, bool):
        if not 0 <= target < num_classes:
            raise ValueError(f'target class {target} out of range: the '
                             f'model has {num_classes} classes (0 .. '
                             f'{num_classes - 1})')
        return int(target)
    if not isinstance(target, str):
        raise TypeError('target class must be an index or a class name, '
                        f'got {type(target).__name__}')
    if class_names is None:
        raise ValueError(f'target class {target!r} is a name: give the '
                         'class names (a label map) or an index')
    if target not in class_names:
        raise ValueError(f'unknown target class {target!r}; classes: '
                         f'{", ".join(class_names)}')
    return list(class_names).index(target)


def cam_from_activation(activation: torch.Tensor, gradient: torch.Tensor,
                        size: Sequence[int]) -> torch.Tensor:
    """Grad-CAM from a layer's output and the score's gradient there.

    Args:
        activation / gradient: ``[C, T', H', W']``.
        size: The clip's ``(T, H, W)``.

    Returns:
        ``[T, H, W]`` in ``[0, 1]`` (see the module docstring).
    """
    if activation.dim() != 4 or activation.shape != gradient.shape:
        raise ValueError('activation and gradient must both be [C, T, H, W],'
                         f' got {tuple(activation.shape)} and '
                         f'{tuple(gradient.shape)}')
    weights = gradient.float().mean(dim=(1, 2, 3))  # [C]
    cam = F.relu((weights.view(-1, 1, 1, 1) * activation.float()).sum(0))
    cam = F.interpolate(cam[None, None], size=tuple(size), mode='trilinear',
                        align_corners=False)[0, 0]  # [T, H, W]
    low, high = cam.min(), cam.max()
    if high <= low:
        return torch.zeros_like(cam)
    return (cam - low) / (high - low)


class _Capture:
    """Forward hook: replace the layer's output by a leaf that requires
    grad, so the score's gradient stops there (nothing before it is
    differentiated)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.outputs: List[torch.Tensor] = []

    def __call__(self, module: nn.Module, args, output):
        if not isinstance(output, torch.Tensor) or output.dim() != 5:
            shape = tuple(output.shape) if isinstance(
                output, torch.Tensor) else type(output).__name__
            raise ValueError(f'target layer {self.name!r} gives {shape}; '
                             'Grad-CAM needs a [N, C, T, H, W] feature map')
        leaf = output.detach().requires_grad_(True)
        self.outputs.append(leaf)
        return leaf


def grad_cam(model: nn.Module, data: dict, target_layer: Optional[str] = None,
             target_class: Union[int, str, None] = None,
             class_names: Optional[Sequence[str]] = None,
             view: int = 0) -> GradCAMResult:
    """Grad-CAM of one view of a test-pipeline sample.

    Args:
        model: A ``Recognizer3D`` with a ``cls_head``.
        data: A packed test-pipeline sample (``inputs`` uint8 ``[views, C,
            T, H, W]``), e.g. from :func:`~mmvid.apis.inference.
            prepare_test_inputs`.
        target_layer: Module name; default :func:`default_target_layer`.
        target_class: Index, digit string or class name; default the view's
            top-1 class.
        class_names: Names of the classes (for a name ``target_class``).
        view: Which view of ``inputs``.

    The model runs in eval mode with its parameters' ``requires_grad``
    off; both are restored afterwards.
    """
    if getattr(model, 'cls_head', None) is None:
        raise ValueError('Grad-CAM needs a recognizer with a cls_head')
    inputs = data['inputs']
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 5:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) \
            else type(inputs).__name__
        raise ValueError('Grad-CAM needs a 3D test pipeline: inputs [views, '
                         f'C, T, H, W] (FormatShape NCTHW), got {shape}')
    if not 0 <= view < inputs.shape[0]:
        raise ValueError(f'view {view} out of range: the pipeline gave '
                         f'{inputs.shape[0]} views')
    name = target_layer or default_target_layer(model)
    layer = find_layer(model, name)
    clip = dict(inputs=inputs[view:view + 1],
                data_samples=data.get('data_samples'))
    batch = model.data_preprocessor(pseudo_collate([clip]), False)
    frames = inputs[view].permute(1, 2, 3, 0)  # [T, H, W, C]
    if getattr(model.data_preprocessor, 'to_rgb', False):
        frames = frames.flip(-1)
    capture = _Capture(name)
    was_training = model.training
    grad_flags = [(p, p.requires_grad) for p in model.parameters()]
    handle = layer.register_forward_hook(capture)
    try:
        model.eval()
        for param, _ in grad_flags:
            param.requires_grad_(False)
        with torch.enable_grad():
            scores = model.cls_head(model.extract_feat(batch['inputs']))[0]
            if len(capture.outputs) != 1:
                raise ValueError(
                    f'target layer {name!r} ran {len(capture.outputs)} times '
                    'in one forward pass; pick a layer that runs once (a '
                    'block such as backbone.layer4.1)')
            index = resolve_target_class(target_class, scores.numel(),
                                         class_names)
            if index is None:
                index = int(scores.argmax())
            activation = capture.outputs[0]
            gradient, = torch.autograd.grad(scores[index], activation)
    finally:
        handle.remove()
        for param, flag in grad_flags:
            param.requires_grad_(flag)
        model.train(was_training)
    cam = cam_from_activation(activation[0].detach(), gradient[0],
                              inputs.shape[2:])
    return GradCAMResult(cam=cam.cpu(), frames=frames.cpu().numpy(),
                         target_class=index, scores=scores.detach().cpu(),
                         target_layer=name)


def gradcam_video(model: nn.Module, video: Union[str, Path, dict],
                  target_layer: Optional[str] = None,
                  target_class: Union[int, str, None] = None,
                  class_names: Optional[Sequence[str]] = None,
                  view: int = 0,
                  test_pipeline: Optional[Sequence[Union[dict,
                                                         Callable]]] = None
                  ) -> GradCAMResult:
    """Grad-CAM of one view (the first by default) of a video file or frame
    folder, prepared by the config's test pipeline (see
    :func:`~mmvid.apis.inference.inference_recognizer`); other arguments
    as :func:`grad_cam`."""
    data = prepare_test_inputs(model, video, test_pipeline)
    return grad_cam(model, data, target_layer, target_class, class_names,
                    view)

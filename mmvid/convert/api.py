"""One call: read a source checkpoint, fit it to a config's model, save it.

Example::

    from mmvid.convert import convert_checkpoint, \
        format_report
    _, report = convert_checkpoint(
        'checkpoints/i3d_nonlocal_32x2_IN_pretrain_400k.pkl',
        'configs/recognition/i3d/i3d_nl_embedded_gaussian_r50_32x2x1_400k_'
        'kinetics400_rgb_videononlocalnet.py',
        out='checkpoints/i3d_nl_32x2_videononlocalnet.pth', fmt='caffe2')
    print(format_report(report))
"""
import os.path as osp
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple, Union

import torch
from mmengine.config import Config
from torch import nn

from mmvid.apis import load_config, turn_off_pretrained
from mmvid.registry import MODELS
from mmvid.version import __version__

from mmvid.checkpoint.errors import CheckpointError
from mmvid.checkpoint.state_dict import load_state_dict
from .caffe2 import read_caffe2
from .fit import fit_to_model
from .mapped import MappedCheckpoint
from .pyslowfast import read_pyslowfast
from .pytorchvideo import read_pytorchvideo
from .report import ConversionReport
from .save import save_converted
from .torchvision import read_torchvision
from .tusharn import read_tusharn

#: Source format -> reader (file -> :class:`~.mapped.MappedCheckpoint`).
READERS: Dict[str, Callable[[str], MappedCheckpoint]] = {
    'caffe2': read_caffe2,
    'pyslowfast': read_pyslowfast,
    'pytorchvideo': read_pytorchvideo,
    'tusharn': read_tusharn,
    'torchvision': read_torchvision,
}

ConfigLike = Union[str, Path, Config]


def build_model(config: ConfigLike,
                cfg_options: Optional[dict] = None) -> Tuple[nn.Module,
                                                            Config]:
    """The config's model, freshly initialised, reading no weights.

    Every ``pretrained`` entry is turned off (as ``init_recognizer`` does),
    so the model is what ``init_recognizer(config, checkpoint)`` builds
    before loading.

    Returns:
        ``(model in eval mode, config)``.
    """
    cfg = load_config(config, cfg_options)
    turn_off_pretrained(cfg.model)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval(), cfg


def _config_name(config: ConfigLike, cfg: Config) -> str:
    if isinstance(config, (str, Path)):
        return str(config)
    return cfg.filename or '<config>'


def convert_checkpoint(src: str,
                       config: ConfigLike,
                       out: Optional[str] = None,
                       fmt: str = 'caffe2',
                       drop_head: bool = False,
                       cfg_options: Optional[dict] = None
                       ) -> Tuple['OrderedDict[str, torch.Tensor]',
                                  ConversionReport]:
    """Convert ``src`` (of format ``fmt``) for the model of ``config``.

    Args:
        src: The source file (for ``'torchvision'`` also
            ``torchvision://resnet50``).
        config: The mmvid config the result is for.
        out: Where to save ``{'state_dict', 'meta'}`` (atomically); None
            saves nothing.
        fmt: One of :data:`READERS`.
        drop_head: Keep the config's freshly initialised classifier.
        cfg_options: Overrides merged into the config.

    Returns:
        ``(state_dict, report)``. The state dict loads strictly into the
        config's model (checked before saving), so
        ``init_recognizer(config, out)`` works.

    Raises:
        FileNotFoundError: if ``src`` does not exist.
        CheckpointError: if the file is unsafe or unreadable, has names the
            format does not have, or does not fit the config.
        ValueError: for an unknown ``fmt``.
    """
    if fmt not in READERS:
        raise ValueError(f'unknown format {fmt!r}; expected one of '
                         f'{", ".join(READERS)}')
    if out is not None and osp.exists(src) and osp.exists(out) \
            and osp.samefile(src, out):
        raise CheckpointError(
            f'refusing to overwrite the source {src} with its conversion; '
            'choose another OUT')
    mapped = READERS[fmt](src)
    model, cfg = build_model(config, cfg_options)
    config_name = _config_name(config, cfg)
    state_dict, report = fit_to_model(mapped, model, drop_head, config_name)
    load_state_dict(model, state_dict, strict=True, logger='silent',
                    source=f'{src} (converted)')
    if out is not None:
        meta = dict(converted_from=osp.basename(src), format=mapped.format,
                    config=config_name, drop_head=drop_head,
                    mmvid_version=__version__)
        if cfg_options:
            meta['cfg_options'] = dict(cfg_options)
        save_converted(state_dict, out, meta)
        report.out = out
    return state_dict, report

"""Build a recognizer from a config and load its weights, ready to run."""
from pathlib import Path
from typing import Optional, Union

import torch.nn as nn
from mmengine.config import Config

from mmvid.registry import MODELS
from mmvid.utils.checkpoint import load_checkpoint


def turn_off_pretrained(cfg: Union[dict, list]) -> None:
    """Set every ``pretrained`` entry of a (nested) model config to None, so
    building the model reads no other weights than the checkpoint."""
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            if key == 'pretrained':
                cfg[key] = None
            else:
                turn_off_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for item in cfg:
            turn_off_pretrained(item)


def load_config(config: Union[str, Path, Config],
                cfg_options: Optional[dict] = None) -> Config:
    """A ``Config`` from a path or a Config, with ``cfg_options`` merged."""
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError('config must be a path or an mmengine Config, got '
                        f'{type(config).__name__}')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    if 'model' not in config:
        raise KeyError(f'config {config.filename} has no "model" entry')
    return config


def init_recognizer(config: Union[str, Path, Config],
                    checkpoint: Optional[str] = None,
                    device: str = 'cpu',
                    strict: bool = True,
                    cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the config's model, load ``checkpoint`` and return it in eval mode.

    Args:
        config: Config file or ``Config``.
        checkpoint: mmvid, mmaction2 (0.x or 1.x) or bare state-dict file;
            None keeps the random initialisation.
        device: Device of the returned model.
        strict: Fail unless the checkpoint's keys equal the model's.
        cfg_options: Overrides merged into the config first.

    Returns:
        The model, with the config as ``model.cfg`` and, when the checkpoint
        holds it, ``model.dataset_meta``.
    """
    cfg = load_config(config, cfg_options)
    turn_off_pretrained(cfg.model)
    model = MODELS.build(cfg.model)
    if checkpoint is None:
        model.init_weights()
    else:
        ckpt = load_checkpoint(model, checkpoint, strict=strict)
        meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
        if isinstance(meta, dict) and 'dataset_meta' in meta:
            model.dataset_meta = meta['dataset_meta']
    model.cfg = cfg
    return model.to(device).eval()

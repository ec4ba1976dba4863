"""Helpers shared by the tests: config paths and small model builders."""
import os.path as osp

from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODEL_CONFIGS = osp.join(REPO, 'configs', '_base_', 'models')


def model_config(name: str) -> Config:
    """A ``configs/_base_/models`` config with ``pretrained=None``."""
    cfg = Config.fromfile(osp.join(MODEL_CONFIGS, f'{name}.py'))
    cfg.model.backbone.pretrained = None
    return cfg

"""The demo model with spread scores, a tiny synthetic test set and the
demo model exported once to every format (shared by the deployment
tests)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmvid.deployment import FORMATS, ScoresModel, export_model
from mmvid.registry import DATASETS, MODELS
from mmvid.utils import register_all_modules
from tests.helpers import tiny_video_set

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'recognition', 'i3d',
                       'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')
EXPORT_SHAPE = (2, 3, 16, 64, 64)  # batch 2 of the demo's test views
SUFFIX = {'onnx': '.onnx', 'openvino': '.xml', 'torchscript': '.pt',
          'exported-program': '.pt2'}


def spread_weights_(model: torch.nn.Module, seed: int = 7) -> None:
    """Random weights whose scores differ clearly between classes (small
    init weights give near-equal scores, where rounding picks the top-1)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith('running_var'):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
            elif tensor.is_floating_point():
                tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.2)


@pytest.fixture(scope='session')
def demo(tmp_path_factory):
    """The demo config pointed at a 3-video synthetic test set, its eager
    model (contiguous weights), a checkpoint of it and the test dataset."""
    tmp = tmp_path_factory.mktemp('deploy')
    root = tmp / 'syn'
    tiny_video_set(root, num_classes=3)
    register_all_modules()
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.memory_format = 'contiguous'
    data = cfg.test_dataloader.dataset
    data.ann_file = str(root / 'val_list_videos.txt')
    data.data_prefix = dict(video=str(root))
    data.label_file = str(root / 'label_map.txt')
    model = MODELS.build(cfg.model)
    spread_weights_(model)
    model.eval()
    ckpt = tmp / 'demo.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    options = [f'test_dataloader.dataset.ann_file={data.ann_file}',
               f'test_dataloader.dataset.data_prefix.video={root}',
               f'test_dataloader.dataset.label_file={data.label_file}',
               'test_dataloader.num_workers=0',
               'test_dataloader.persistent_workers=False']
    return dict(cfg=cfg, model=model, ckpt=str(ckpt), tmp=tmp,
                dataset=DATASETS.build(data), options=options)


@pytest.fixture(scope='session')
def exported(demo):
    """``{format: file}``: the demo model exported to each format with a
    dynamic batch, traced at :data:`EXPORT_SHAPE`."""
    folder = demo['tmp'] / 'exported'
    scores = ScoresModel(demo['model'])
    return {fmt: export_model(scores, EXPORT_SHAPE,
                              str(folder / f'demo{SUFFIX[fmt]}'), fmt)[0]
            for fmt in FORMATS}

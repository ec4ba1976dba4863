"""Every config under ``configs/`` loads and builds, and the I3D zoo says
what it should.

For each ``.py`` file (``_base_`` files included): load it with mmengine's
``Config``, turn ``pretrained`` and ``load_from`` off, build its model (once
per distinct model config), every transform of its dataloaders' pipelines
(not run on data), its datasets (``lazy_init=True``: the annotation lists
are not read), its optimizer wrapper (on a two-layer stand-in model) and its
parameter schedulers. Then check the facts of each config family, that the
file names follow the zoo grammar, that no config inherits more than 3
levels deep, and that ``metafile.yml`` and ``README.md`` list every zoo
config with the parameter counts the built models have. A forward pass on a
``[1, 1, 3, 8, 64, 64]`` clip runs for a few representative models only.
"""
import ast
import copy
import functools
import glob
import math
import os.path as osp
import re

import pytest
import torch
import torch.nn as nn
import yaml
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmvid.apis import turn_off_pretrained
from mmvid.models.backbones.resnet3d_blocks import BasicBlock3d, Bottleneck3d
from mmvid.models.common import NonLocal3d
from mmvid.registry import (DATA_SAMPLERS, DATASETS, FUNCTIONS, MODELS,
                            PARAM_SCHEDULERS, TRANSFORMS)
from mmvid.structures import ActionDataSample

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_ROOT = osp.join(ROOT, 'configs')
ZOO_DIR = osp.join(CONFIG_ROOT, 'recognition', 'i3d')
ALL_CONFIGS = sorted(
    osp.relpath(path, ROOT) for path in glob.glob(
        osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True))
# the demo configs follow mmaction2 1.x's naming and are no zoo entries
DEMO = 'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb'
DEMO_1FRAME = 'i3d_r18-tiny_8xb1-1x1x1-12e_synthetic-rgb'
# the demo with MixUp / CutMix batch blending
DEMO_BLENDINGS = {
    'i3d_r18-tiny-mixup_8xb1-16x2x1-12e_synthetic-rgb':
    dict(type='MixupBlending', num_classes=8, alpha=0.2),
    'i3d_r18-tiny-cutmix_8xb1-16x2x1-12e_synthetic-rgb':
    dict(type='CutmixBlending', num_classes=8, alpha=1.0),
}
ZOO = sorted(
    osp.basename(path)[:-3] for path in ALL_CONFIGS
    if osp.dirname(path) == osp.relpath(ZOO_DIR, ROOT)
    and osp.basename(path)[:-3] not in (DEMO, DEMO_1FRAME, *DEMO_BLENDINGS))
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# shared settings that only make sense inherited: no dataset of their own
FRAGMENTS = ('configs/_base_/datasets/default_loaders.py', )

I3D_INFLATE = ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))
NL_BLOCKS = ['layer2.1', 'layer2.3', 'layer3.1', 'layer3.3', 'layer3.5']
FAIR_MEAN, FAIR_STD = [114.75] * 3, [57.375] * 3  # 0.45, 0.225 of 255
NAME_GRAMMAR = re.compile(
    r'^i3d(_nl_(dot_product|embedded_gaussian|gaussian))?_r(34|50)'
    r'(_(dense|lazy|video|heavy))?_\d+x\d+x\d+_\d+[ek]'
    r'_(kinetics400|hmdb51_split\d|ucf101_split\d)_rgb'
    r'(_(pyslowfast|videononlocalnet|pyvideoai))?$')


def _turbojpeg_available() -> bool:
    try:
        import turbojpeg
        turbojpeg.TurboJPEG()
    except Exception:  # the package or libturbojpeg is missing
        return False
    return True


HAVE_TURBOJPEG = _turbojpeg_available()


# -- loading and building ----------------------------------------------


def zoo_path(name: str) -> str:
    return osp.join(osp.relpath(ZOO_DIR, ROOT), f'{name}.py')


@functools.lru_cache(maxsize=None)
def _load(path: str) -> Config:
    cfg = Config.fromfile(osp.join(ROOT, path))
    if 'model' in cfg:
        turn_off_pretrained(cfg.model)
    if 'load_from' in cfg:
        cfg.load_from = None
    return cfg


def load(path: str) -> Config:
    """The config with pretrained weights off (a copy: tests may edit)."""
    return copy.deepcopy(_load(path))


def raw(name: str) -> Config:
    """A zoo config as written (``pretrained``/``load_from`` kept)."""
    return Config.fromfile(osp.join(ROOT, zoo_path(name)))


_MODELS = {}


def build_model(cfg: Config) -> nn.Module:
    """The config's model, built once per distinct model config."""
    key = repr(cfg.model.to_dict())
    if key not in _MODELS:
        _MODELS[key] = MODELS.build(copy.deepcopy(cfg.model))
    return _MODELS[key]


def model_of(name: str) -> nn.Module:
    return build_model(load(zoo_path(name)))


def build_transform(step: dict):
    """A pipeline step; without PyTurboJPEG a ``turbojpeg`` decoder must
    fail with a message naming the package, and a ``cv2`` one stands in."""
    try:
        return TRANSFORMS.build(copy.deepcopy(step))
    except ImportError as error:
        if HAVE_TURBOJPEG or step.get('decoding_backend') != 'turbojpeg':
            raise
        assert 'PyTurboJPEG' in str(error)
        return TRANSFORMS.build({**step, 'decoding_backend': 'cv2'})


def pipelines(cfg: Config) -> dict:
    """``{loader: pipeline}`` of the dataloaders the config has."""
    return {
        loader: cfg[loader].dataset.pipeline
        for loader in LOADERS if cfg.get(loader) is not None
    }


def only_step(pipeline, transform_type: str) -> dict:
    """The only step of ``transform_type`` in ``pipeline``."""
    found = [s for s in pipeline if s['type'] == transform_type]
    assert len(found) == 1, (transform_type, pipeline)
    return found[0]


def types(pipeline) -> list:
    return [s['type'] for s in pipeline]


def num_test_views(pipeline) -> int:
    """Views of a test sample: clips x crops."""
    samplers = [s for s in pipeline if 'Sample' in s['type']]
    assert len(samplers) == 1
    sampler = samplers[0]
    clips = sampler.get('num_clips', 1)
    if sampler['type'] == 'DenseSampleFrames':
        clips *= sampler.get('num_sample_positions', 10)
    if sampler.get('twice_sample'):
        clips *= 2
    crops = 1
    for s in pipeline:
        crops *= {'ThreeCrop': 3, 'TenCrop': 10}.get(s['type'], 1)
    return clips * crops


def base_files(path: str) -> list:
    """The files a config's ``_base_`` names, as paths from ``ROOT``."""
    with open(osp.join(ROOT, path)) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], 'id', None) == '_base_'):
            value = ast.literal_eval(node.value)
            bases = [value] if isinstance(value, str) else list(value)
            return [
                osp.normpath(osp.join(osp.dirname(path), base))
                for base in bases
            ]
    return []


def inheritance_depth(path: str) -> int:
    bases = base_files(path)
    return 1 + max(map(inheritance_depth, bases)) if bases else 0


def conv_kernel_t(conv_module) -> int:
    return conv_module.conv.kernel_size[0]


def block_inflation(model) -> tuple:
    """Per stage, 1 where the block has a temporal kernel of 3."""
    stages = []
    for name in model.backbone.res_layers:
        stages.append(tuple(
            int(conv_kernel_t(block.conv1) == 3)
            for block in getattr(model.backbone, name)))
    return tuple(stages)


def non_local_names(model) -> list:
    return sorted(
        name[len('backbone.'):-len('.non_local_block')]
        for name, module in model.named_modules()
        if isinstance(module, NonLocal3d))


def num_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


# -- every config ------------------------------------------------------


@pytest.mark.parametrize('path', ALL_CONFIGS)
def test_config_loads_and_builds(path):
    cfg = load(path)
    assert inheritance_depth(path) <= 3, 'inherits more than 3 levels deep'
    if path in FRAGMENTS:
        for loader in LOADERS:
            assert 'pipeline' not in cfg[loader].get('dataset', {})
            assert cfg[loader].sampler['type'] in DATA_SAMPLERS
        return
    if 'model' in cfg:
        model = build_model(cfg)
        assert isinstance(model, nn.Module)
        if 'cls_head' in cfg.model:
            assert (model.cls_head.in_channels
                    == model.backbone.feat_dim)
    for loader, pipeline in pipelines(cfg).items():
        built = [build_transform(s) for s in pipeline]
        assert types(pipeline)[-2:] == ['FormatShape', 'PackActionInputs']
        dataset_cfg = copy.deepcopy(cfg[loader].dataset.to_dict())
        dataset_cfg.update(pipeline=built, lazy_init=True)
        label_file = dataset_cfg.get('label_file')
        if label_file is not None and not osp.isfile(label_file):
            dataset_cfg.pop('label_file')  # read at construction
        dataset = DATASETS.build(dataset_cfg)
        assert not dataset._fully_initialized  # no annotation list read
        assert dataset.test_mode == (loader != 'train_dataloader')
        assert cfg[loader].sampler['type'] in DATA_SAMPLERS
        assert FUNCTIONS.get(cfg[loader].worker_init_fn['type'])
    if 'optim_wrapper' in cfg:
        stand_in = nn.Sequential(nn.Conv3d(3, 4, 1), nn.BatchNorm3d(4))
        wrapper = build_optim_wrapper(stand_in,
                                      copy.deepcopy(cfg.optim_wrapper))
        schedulers = build_schedulers(cfg, wrapper)
        assert len(schedulers) == len(cfg.param_scheduler)
    if 'train_dataloader' in cfg and 'optim_wrapper' in cfg:
        assert cfg.auto_scale_lr.base_batch_size % \
            cfg.train_dataloader.batch_size == 0


def build_schedulers(cfg: Config, wrapper, epoch_length: int = 10) -> list:
    schedulers = []
    for scheduler in copy.deepcopy(cfg.param_scheduler):
        cls = PARAM_SCHEDULERS.get(scheduler.pop('type'))
        if scheduler.pop('convert_to_iter_based', False):
            schedulers.append(
                cls.build_iter_from_epoch(
                    wrapper, epoch_length=epoch_length, **scheduler))
        else:
            schedulers.append(cls(wrapper, **scheduler))
    return schedulers


def test_zoo_file_names_follow_the_grammar():
    assert ZOO, 'no zoo config found'
    bad = [name for name in ZOO if not NAME_GRAMMAR.match(name)]
    assert not bad


def test_metafile_and_readme_list_every_zoo_config():
    with open(osp.join(ZOO_DIR, 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    with open(osp.join(ZOO_DIR, 'README.md')) as f:
        readme = f.read()
    configs = set()
    for entry in meta['Models']:
        assert osp.isfile(osp.join(ROOT, entry['Config'])), entry['Config']
        configs.add(osp.basename(entry['Config'])[:-3])
        metadata = entry['Metadata']
        for key in ('Architecture', 'Pretrained', 'Training Data',
                    'Training Resources', 'FLOPs', 'Parameters'):
            assert key in metadata, (entry['Name'], key)
        model = model_of(osp.basename(entry['Config'])[:-3])
        assert metadata['Parameters'] == num_params(model), entry['Name']
        for result in entry.get('Results', []):
            assert set(result['Metrics']) == {'Top 1 Accuracy',
                                              'Top 5 Accuracy'}
    assert configs == set(ZOO)
    assert [name for name in ZOO if f'{name}.py' not in readme] == []


# -- published weights: URLs and hashes agree across the three docs -------

DOCS = osp.join(ROOT, 'docs')
URL = re.compile(r'\((https://[^)\s]+)\)')
WEIGHT_HOSTS = ('https://download.openmmlab.com/mmaction/recognition/i3d/',
                'https://dl.fbaipublicfiles.com/',
                'https://download.pytorch.org/models/')


def table_rows(text: str) -> list:
    """The body rows of every markdown table in ``text``, as cell lists."""
    rows = []
    for line in text.splitlines():
        if line.startswith('|') and not line.startswith('|---'):
            rows.append([cell.strip() for cell in line.strip('|').split('|')])
    return rows


def read(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return f.read()


def published_weights() -> list:
    """``(name, url or None, hash or None)`` of the metafile entries that
    have weights (``url`` None: unconfirmed)."""
    entries = []
    for entry in yaml.safe_load(read(osp.join(ZOO_DIR, 'metafile.yml')))[
            'Models']:
        if 'Weights' not in entry:
            assert 'Hash' not in entry, entry['Name']
            continue
        url, digest = entry['Weights'], entry['Hash']
        assert isinstance(digest, str), (entry['Name'], digest)
        if url.startswith('unconfirmed: '):
            url = None
        else:
            assert url.startswith(WEIGHT_HOSTS), url
        if digest == 'none published':
            digest = None
        else:
            assert re.fullmatch(r'[0-9a-f]{8}', digest), entry['Name']
            # mmaction2's published hash is the file name's suffix
            assert url.endswith(f'-{digest}.pth'), entry['Name']
        entries.append((entry['Name'], url, digest))
    return entries


def test_metafile_weights_are_urls_with_hashes():
    entries = published_weights()
    assert len(entries) == 15
    assert [name for name, url, _ in entries if url is None] == [
        'i3d_r50_8x8x1_200e_hmdb51_split1_rgb_pyvideoai']
    mmaction2 = [e for e in entries if e[1] and 'openmmlab' in e[1]]
    assert len(mmaction2) == 10 and all(digest for _, _, digest in mmaction2)
    assert all(digest is None for _, url, digest in entries
               if url is None or 'fbaipublicfiles' in url)


def test_model_zoo_doc_lists_the_metafile_weights():
    rows = [row for row in table_rows(read(osp.join(DOCS, 'model_zoo.md')))
            if len(row) == 4 and row[0].startswith('`i3d')]
    listed = []
    for name, file, digest, _ in rows:
        urls = URL.findall(file)
        if 'URL unconfirmed' in file:
            assert urls == [], name
        listed.append((name.strip('`'), urls[0] if urls else None,
                       None if digest == 'none published' else
                       digest.strip('`')))
    assert listed == published_weights()


def test_zoo_readme_rows_link_their_weights():
    readme = read(osp.join(ZOO_DIR, 'README.md'))
    rows = [row for row in table_rows(readme)
            if row[0].startswith('[i3d') or row[0] == 'same config']
    assert len(rows) == len(ZOO) + 3  # 3 "same config" (256p) rows
    linked = set()
    for row in rows:
        checkpoint = row[-2]
        urls = URL.findall(checkpoint)
        if checkpoint.startswith('none published'):
            assert urls == []
        elif 'URL unconfirmed' in checkpoint:
            assert 'hash: none published' in checkpoint
        else:
            assert urls and all(u.startswith(WEIGHT_HOSTS) for u in urls)
            for url in urls:
                digest = re.search(r'-([0-9a-f]{8})\.pth$', url)
                assert (f'(sha256 `{digest.group(1)}...`)' if digest else
                        'hash: none published') in checkpoint, url
        linked.update(urls)
    for name, url, digest in published_weights():
        assert url is None or url in linked, name


def test_model_zoo_conversion_rows_name_their_source():
    text = read(osp.join(DOCS, 'model_zoo.md'))
    section = text[text.index('## Converting checkpoints'):]
    rows = [row for row in table_rows(section) if len(row) == 5][1:]
    assert len(rows) == 10
    for row in rows:
        assert URL.findall(row[0]) or 'no download' in row[0], row[0]


# -- representative forward passes ---------------------------------------


@pytest.mark.parametrize('name, num_classes', [
    ('i3d_r50_32x2x1_100e_kinetics400_rgb', 400),
    ('i3d_r34_32x2x1_100e_kinetics400_rgb', 400),
    ('i3d_nl_embedded_gaussian_r50_8x8x1_196e_kinetics400_rgb_pyslowfast',
     400),
])
def test_forward_on_a_small_clip(name, num_classes):
    model = model_of(name).eval()  # constructor init; no weights needed
    data = dict(
        inputs=[torch.randint(0, 256, (1, 3, 8, 64, 64), dtype=torch.uint8)],
        data_samples=[ActionDataSample().set_gt_label(0)])
    out = model.test_step(data)
    assert out[0].pred_score.shape == (num_classes, )
    torch.testing.assert_close(out[0].pred_score.sum(), torch.tensor(1.))


# -- mmaction2 0.x family ------------------------------------------------

MMACTION2_R50 = [
    'i3d_r50_32x2x1_100e_kinetics400_rgb',
    'i3d_r50_dense_32x2x1_100e_kinetics400_rgb',
    'i3d_r50_lazy_32x2x1_100e_kinetics400_rgb',
    'i3d_r50_video_32x2x1_100e_kinetics400_rgb',
]
NL_MODES = ['dot_product', 'embedded_gaussian', 'gaussian']


def nl_config(mode: str) -> str:
    return f'i3d_nl_{mode}_r50_32x2x1_100e_kinetics400_rgb'


@pytest.mark.parametrize(
    'name', MMACTION2_R50 + [nl_config(m) for m in NL_MODES] +
    ['i3d_r34_32x2x1_100e_kinetics400_rgb'])
def test_mmaction2_32x2x1_recipe(name):
    cfg = load(zoo_path(name))
    backbone = cfg.model.backbone
    assert raw(name).model.backbone.pretrained.startswith('torchvision://')
    assert backbone.conv1_kernel == (5, 7, 7)
    assert (backbone.conv1_stride_t, backbone.pool1_stride_t) == (2, 2)
    assert tuple(map(tuple, backbone.inflate)) == I3D_INFLATE
    model = model_of(name)
    assert block_inflation(model) == I3D_INFLATE
    assert model.cls_head.num_classes == 400
    assert cfg.model.cls_head.average_clips == 'prob'
    assert cfg.model.data_preprocessor.mean == [123.675, 116.28, 103.53]
    # schedule: SGD 0.01 for batch 8 x 8 GPUs, x0.1 at 40 and 80 of 100
    assert cfg.optim_wrapper.optimizer.lr == 0.01
    assert cfg.train_dataloader.batch_size == 8
    assert cfg.auto_scale_lr.base_batch_size == 64
    assert cfg.param_scheduler[0].milestones == [40, 80]
    assert cfg.train_cfg.max_epochs == 100
    # 32x2x1 clips; test 10 clips x 3 crops of 256
    train, test = cfg.train_dataloader.dataset, cfg.test_dataloader.dataset
    sampler = [s for s in train.pipeline if 'Sample' in s['type']][0]
    assert (sampler['clip_len'], sampler['frame_interval']) == (32, 2)
    assert num_test_views(test.pipeline) == 30
    assert only_step(test.pipeline, 'ThreeCrop')['crop_size'] == 256
    assert only_step(test.pipeline, 'Resize')['scale'] == (-1, 256)
    video = name == 'i3d_r50_video_32x2x1_100e_kinetics400_rgb'
    assert train.type == ('VideoDataset' if video else 'RawframeDataset')
    assert num_test_views(cfg.val_dataloader.dataset.pipeline) in (1, 10)


def test_dense_samples_densely_everywhere():
    cfg = load(zoo_path('i3d_r50_dense_32x2x1_100e_kinetics400_rgb'))
    for pipeline in pipelines(cfg).values():
        assert 'SampleFrames' not in types(pipeline)
        assert only_step(pipeline, 'DenseSampleFrames')['clip_len'] == 32


def test_lazy_fuses_its_lazy_transforms():
    cfg = load(zoo_path('i3d_r50_lazy_32x2x1_100e_kinetics400_rgb'))
    for loader, pipeline in pipelines(cfg).items():
        decode = only_step(pipeline, 'RawFrameDecode')
        assert decode['decoding_backend'] == 'cv2'  # runs out of the box
        if loader == 'test_dataloader':  # ThreeCrop has no lazy mode
            assert 'Fuse' not in types(pipeline)
            continue
        fuse = types(pipeline).index('Fuse')
        geometric = pipeline[types(pipeline).index('RawFrameDecode') +
                             1:fuse]
        assert geometric and all(s.get('lazy') for s in geometric)


def test_video_decodes_with_decord():
    cfg = load(zoo_path('i3d_r50_video_32x2x1_100e_kinetics400_rgb'))
    for loader, pipeline in pipelines(cfg).items():
        assert types(pipeline)[:3] == [
            'DecordInit', 'SampleFrames', 'DecordDecode'
        ]
        assert set(cfg[loader].dataset.data_prefix) == {'video'}


def test_heavy_inflates_all_blocks_without_stem_temporal_stride():
    name = 'i3d_r50_heavy_8x8x1_100e_kinetics400_rgb'
    cfg = load(zoo_path(name))
    backbone = cfg.model.backbone
    assert (backbone.conv1_stride_t, backbone.pool1_stride_t) == (1, 1)
    assert backbone.with_pool2
    model = model_of(name)
    assert all(all(stage) for stage in block_inflation(model))
    assert model.backbone.conv1.conv.stride[0] == 1
    assert model.backbone.maxpool.stride[0] == 1
    for pipeline in pipelines(cfg).values():
        sampler = only_step(pipeline, 'SampleFrames')
        assert (sampler['clip_len'], sampler['frame_interval']) == (8, 8)
    assert num_test_views(cfg.test_dataloader.dataset.pipeline) == 30


def test_r34_uses_basic_blocks_and_a_512_channel_head():
    model = model_of('i3d_r34_32x2x1_100e_kinetics400_rgb')
    blocks = [m for m in model.backbone.modules()
              if isinstance(m, (BasicBlock3d, Bottleneck3d))]
    assert len(blocks) == 16
    assert all(isinstance(b, BasicBlock3d) for b in blocks)
    assert model.backbone.feat_dim == model.cls_head.in_channels == 512
    assert raw('i3d_r34_32x2x1_100e_kinetics400_rgb'
               ).model.backbone.pretrained == 'torchvision://resnet34'


@pytest.mark.parametrize('mode', NL_MODES)
def test_nl_configs_have_the_5_non_local_blocks(mode):
    cfg = load(zoo_path(nl_config(mode)))
    nl_cfg = cfg.model.backbone.non_local_cfg
    assert (nl_cfg.mode, nl_cfg.sub_sample, nl_cfg.use_scale) == (mode, True,
                                                                  False)
    model = model_of(nl_config(mode))
    assert non_local_names(model) == NL_BLOCKS
    assert all(m.mode == mode for m in model.modules()
               if isinstance(m, NonLocal3d))


# -- PySlowFast / video-nonlocal-net / PyVideoAI -----------------------------

PYSLOWFAST = [
    'i3d_r50_8x8x1_196e_kinetics400_rgb_pyslowfast',
    'i3d_nl_embedded_gaussian_r50_8x8x1_196e_kinetics400_rgb_pyslowfast',
]
VIDEONONLOCALNET = [
    'i3d_r50_32x2x1_400k_kinetics400_rgb_videononlocalnet',
    'i3d_nl_embedded_gaussian_r50_32x2x1_400k_kinetics400_rgb'
    '_videononlocalnet',
]
PYVIDEOAI = [
    'i3d_r50_8x8x1_200e_hmdb51_split1_rgb_pyvideoai',
    'i3d_r50_8x8x1_200e_ucf101_split1_rgb_pyvideoai',
]


@pytest.mark.parametrize('name', PYSLOWFAST + VIDEONONLOCALNET + PYVIDEOAI)
def test_fair_recipes_normalise_with_a_scalar_mean_and_std(name):
    cfg = load(zoo_path(name))
    assert cfg.model.data_preprocessor.mean == FAIR_MEAN
    assert cfg.model.data_preprocessor.std == FAIR_STD
    model = model_of(name)
    assert block_inflation(model) == I3D_INFLATE
    assert model.backbone.conv1.conv.kernel_size == (5, 7, 7)
    clip_len, interval = (32, 2) if name in VIDEONONLOCALNET else (8, 8)
    stride_t = 2 if name in VIDEONONLOCALNET else 1
    assert model.backbone.conv1.conv.stride == (stride_t, 2, 2)
    assert model.backbone.maxpool.stride == (stride_t, 2, 2)
    # the 32x2 stem pool is Caffe2's 2x3x3 without padding (55x55 maps)
    kernel, padding = ((2, 3, 3), (0, 0, 0)) if name in VIDEONONLOCALNET \
        else ((1, 3, 3), (0, 1, 1))
    assert model.backbone.maxpool.kernel_size == kernel
    assert model.backbone.maxpool.padding == padding
    assert model.backbone.with_pool2
    for pipeline in pipelines(cfg).values():
        sampler = only_step(pipeline, 'SampleFrames')
        assert (sampler['clip_len'], sampler['frame_interval']) == (
            clip_len, interval)
        assert sampler.get('test_spacing', 'uniform') == 'uniform'


@pytest.mark.parametrize('name', PYSLOWFAST + VIDEONONLOCALNET)
def test_fair_kinetics_test_protocol_is_10_clips_x_3_crops(name):
    cfg = load(zoo_path(name))
    test = cfg.test_dataloader.dataset.pipeline
    assert num_test_views(test) == 30
    assert only_step(test, 'Resize')['scale'] == (-1, 256)
    assert only_step(test, 'ThreeCrop')['crop_size'] == 256
    assert only_step(test, 'SampleFrames')['test_spacing'] == 'uniform'
    assert cfg.model.cls_head.average_clips == 'prob'
    assert cfg.train_dataloader.dataset.type == 'VideoDataset'
    assert cfg.auto_scale_lr.base_batch_size == 64


@pytest.mark.parametrize('name', [PYSLOWFAST[1], VIDEONONLOCALNET[1]])
def test_fair_non_local_is_scaled_softmax_in_5_blocks(name):
    nl_cfg = load(zoo_path(name)).model.backbone.non_local_cfg
    assert (nl_cfg.mode, nl_cfg.use_scale, nl_cfg.sub_sample) == (
        'embedded_gaussian', True, True)
    # FAIR's block: pool x before phi and g, a bias on the output conv
    assert nl_cfg.pool_before_conv and nl_cfg.out_bias
    model = model_of(name)
    assert non_local_names(model) == NL_BLOCKS
    block = model.backbone.layer2[1].non_local_block
    assert block.conv_out.conv.bias is not None and block.pool_before_conv


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step')
def test_pyslowfast_trains_from_scratch_with_warmup_and_cosine():
    cfg = load(zoo_path(PYSLOWFAST[0]))
    assert raw(PYSLOWFAST[0]).model.backbone.pretrained is None
    assert cfg.model.backbone.zero_init_residual
    assert cfg.train_cfg.max_epochs == 196
    assert cfg.optim_wrapper.optimizer.lr == 0.1
    stand_in = nn.Linear(1, 1)
    wrapper = build_optim_wrapper(stand_in, copy.deepcopy(cfg.optim_wrapper))
    schedulers = build_schedulers(cfg, wrapper, epoch_length=1)
    lrs = []
    for _ in range(196):
        lrs.append(wrapper.get_lr()['lr'][0])
        for scheduler in schedulers:
            scheduler.step()
    # from 0.01 up to the cosine curve at epoch 34, then down it to ~0
    cosine = [0.05 * (1 + math.cos(math.pi * epoch / 196))
              for epoch in range(196)]
    assert lrs[0] == pytest.approx(0.01)
    assert lrs[34:] == pytest.approx(cosine[34:], rel=1e-6)
    assert all(a < b for a, b in zip(lrs[:33], lrs[1:33]))
    assert max(lrs) == pytest.approx(lrs[34], rel=0.01)
    assert lrs[-1] < 1e-4


def test_videononlocalnet_runs_400k_iterations():
    cfg = load(zoo_path(VIDEONONLOCALNET[0]))
    assert raw(VIDEONONLOCALNET[0]).model.backbone.pretrained == \
        'torchvision://resnet50'
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == 400000
    assert cfg.param_scheduler[0].milestones == [150000, 300000]
    assert not cfg.param_scheduler[0].by_epoch
    assert cfg.optim_wrapper.optimizer.nesterov
    assert cfg.optim_wrapper.paramwise_cfg.norm_decay_mult == 0
    assert cfg.default_hooks.checkpoint.by_epoch is False
    assert cfg.log_processor.by_epoch is False


@pytest.mark.parametrize('name, num_classes',
                         list(zip(PYVIDEOAI, (51, 101))))
def test_pyvideoai_fine_tunes_from_kinetics(name, num_classes):
    cfg = load(zoo_path(name))
    assert raw(name).load_from.endswith(f'{PYSLOWFAST[0]}.pth')
    assert model_of(name).cls_head.num_classes == num_classes
    assert cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.optim_wrapper.optimizer.weight_decay == 5e-4
    assert cfg.train_dataloader.batch_size == 8
    assert cfg.train_cfg.max_epochs == 200 and cfg.train_cfg.val_interval == 1
    plateau = cfg.param_scheduler[0]
    assert plateau.type == 'ReduceOnPlateauLR'
    assert (plateau.factor, plateau.patience) == (0.1, 10)
    # test: 5 clips x 1 centre crop of 224 at short side 224
    test = cfg.test_dataloader.dataset.pipeline
    assert num_test_views(test) == 5
    assert only_step(test, 'SampleFrames')['num_clips'] == 5
    assert only_step(test, 'CenterCrop')['crop_size'] == 224
    assert only_step(test, 'Resize')['scale'] == (-1, 224)
    dataset = 'hmdb51' if num_classes == 51 else 'ucf101'
    for loader in LOADERS:
        assert dataset in cfg[loader].dataset.ann_file


def test_plateau_schedule_cuts_the_lr_after_10_flat_validations():
    cfg = load(zoo_path(PYVIDEOAI[0]))
    wrapper = build_optim_wrapper(nn.Linear(1, 1),
                                  copy.deepcopy(cfg.optim_wrapper))
    plateau, = build_schedulers(cfg, wrapper)
    plateau.step(dict(top1_acc=0.5))
    for _ in range(10):
        plateau.step(dict(top1_acc=0.5))
    assert wrapper.get_lr()['lr'][0] == pytest.approx(1e-4)
    plateau.step(dict(top1_acc=0.5))
    assert wrapper.get_lr()['lr'][0] == pytest.approx(1e-5)


# -- the demo and its 1-frame ablation -------------------------------------


def test_one_frame_ablation_differs_from_the_demo_only_in_time():
    demo, ablation = load(zoo_path(DEMO)), load(zoo_path(DEMO_1FRAME))
    for loader in LOADERS:
        ours = ablation[loader].dataset.pipeline
        theirs = demo[loader].dataset.pipeline
        assert types(ours) == types(theirs)
        for a, b in zip(ours, theirs):
            if a['type'] == 'SampleFrames':
                assert b['clip_len'] == 16 and b['frame_interval'] == 2
                assert (a['clip_len'], a['frame_interval']) == (1, 1)
                a, b = dict(a, clip_len=0, frame_interval=0), dict(
                    b, clip_len=0, frame_interval=0)
            assert a == b
    assert ablation.model.backbone.pop('with_pool2') is False
    assert ablation.model == demo.model
    for key in ('train_cfg', 'optim_wrapper', 'param_scheduler'):
        assert ablation[key] == demo[key], key
    # test views: 2 clips x 3 crops at the 64 px training scale
    test = demo.test_dataloader.dataset.pipeline
    assert num_test_views(test) == 6
    assert only_step(test, 'Resize')['scale'] == (-1, 64)
    assert only_step(test, 'ThreeCrop')['crop_size'] == 64


def test_one_frame_ablation_runs_on_one_frame_clips():
    model = model_of(DEMO_1FRAME).eval()
    data = dict(
        inputs=[torch.randint(0, 256, (6, 3, 1, 64, 64), dtype=torch.uint8)],
        data_samples=[ActionDataSample().set_gt_label(0)])
    out = model.test_step(data)
    assert out[0].pred_score.shape == (8, )


@pytest.mark.parametrize('name', sorted(DEMO_BLENDINGS))
def test_blending_variants_differ_from_the_demo_only_in_blending(name):
    demo, variant = load(zoo_path(DEMO)), load(zoo_path(name))
    blending = variant.model.data_preprocessor.pop('blending')
    assert blending == DEMO_BLENDINGS[name]
    assert variant.model == demo.model
    for key in LOADERS + ('train_cfg', 'optim_wrapper', 'param_scheduler'):
        assert variant[key] == demo[key], key
    built = model_of(name).data_preprocessor.blending
    assert type(built).__name__ == blending['type']
    assert (built.num_classes, built.alpha) == (8, blending['alpha'])

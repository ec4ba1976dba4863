"""Registries: children of mmengine's, lazy locations, helpful errors."""
import importlib

import pytest
from mmengine import DefaultScope
from mmengine.registry import MODELS as MMENGINE_MODELS

import mmvid.registry as registry
from mmvid.registry import MODELS, Registry
from mmvid.utils import register_all_modules

REGISTRY_NAMES = ('RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS',
                  'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
                  'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS',
                  'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
                  'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR', 'VISUALIZERS',
                  'VISBACKENDS', 'LOG_PROCESSORS', 'FUNCTIONS')


@pytest.mark.parametrize('name', REGISTRY_NAMES)
def test_registry_is_mmvid_child_of_mmengine(name):
    reg = getattr(registry, name)
    assert isinstance(reg, Registry)
    assert reg.scope == 'mmvid'
    assert reg.parent is not None and reg.parent.scope == 'mmengine'
    assert reg.parent._children['mmvid'] is reg
    for location in reg._locations:  # every lazy location is importable
        importlib.import_module(location)


def test_models_registered():
    register_all_modules()
    assert set(MODELS.module_dict) == {
        'ResNet3d', 'NonLocal3d', 'I3DHead', 'Recognizer3D',
        'ActionDataPreprocessor', 'CrossEntropyLoss', 'BCELossWithLogits',
        'MixupBlending', 'CutmixBlending'
    }


def test_missing_name_lists_close_matches():
    with pytest.raises(KeyError, match=r"'ResNet3D' is not in the "
                       r'mmvid::model registry\. Did you mean: ResNet3d'):
        MODELS.get('ResNet3D')
    with pytest.raises(KeyError, match='Did you mean: ResNet3d'):
        MODELS.build(dict(type='Resnet3d', depth=50))
    assert 'ResNet3d' in MODELS
    assert 'ResNet3D' not in MODELS


def test_mmengine_root_builds_mmvid_parts_in_mmvid_scope():
    register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmvid'
    head = MMENGINE_MODELS.build(
        dict(type='I3DHead', num_classes=3, in_channels=8))
    assert type(head).__module__ == 'mmvid.models.heads.i3d_head'
    with pytest.raises(KeyError, match='Did you mean: I3DHead'):
        MMENGINE_MODELS.build(dict(type='I3dHead', num_classes=3,
                                   in_channels=8))


def test_unknown_argument_names_class():
    with pytest.raises(TypeError, match='ResNet3d.*unexpected keyword '
                       "argument 'depht'"):
        MODELS.build(dict(type='ResNet3d', depht=50))


def test_build_ignores_a_foreign_current_default_scope():
    """mmengine's build follows the current default scope; mmvid's
    registries always build in scope mmvid."""
    with DefaultScope.overwrite_default_scope('mmengine'):
        head = MODELS.build(dict(type='I3DHead', num_classes=3,
                                 in_channels=8))
    assert type(head).__name__ == 'I3DHead'

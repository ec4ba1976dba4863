"""mmvid's registries: children of mmengine's root registries, scope ``mmvid``.

Because every registry here is a child of the mmengine registry of the same
name, mmengine's ``Runner`` builds mmvid parts from a config that sets
``default_scope='mmvid'``, and mmvid configs can use any mmengine part
(``SGD``, ``MultiStepLR``, ``CheckpointHook`` ...) by name.

Lazy ``locations`` import the package that registers the parts the first time
a name is looked up, so ``MODELS.build(dict(type='ResNet3d', ...))`` works
without importing ``mmvid.models`` first. Every location is a real package
(``tests/test_registry.py`` imports them all).

``REGISTRY.build(cfg)`` always builds in scope ``mmvid`` (mmengine's own
``build`` follows the current default scope). A failed lookup raises ``KeyError`` naming the registry and the closest
registered names, instead of mmengine's bare "not in the registry".
"""
import difflib
from typing import Any, List, Optional

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import Registry as MMEngineRegistry
from mmengine.registry import \
    RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS

SCOPE = 'mmvid'


class Registry(MMEngineRegistry):
    """An mmengine registry whose failed lookups say what was meant.

    ``get`` raises ``KeyError`` listing the closest registered names (of this
    registry and its ancestors) where mmengine's returns ``None``; use
    ``name in REGISTRY`` to test for presence.
    """

    def get(self, key: str) -> Any:
        obj = super().get(key)
        if obj is None:
            raise KeyError(self.missing_key_message(key))
        return obj

    def build(self, cfg: dict, *args, **kwargs) -> Any:
        """Build in this registry's scope, whatever the current default
        scope (mmengine switches to the current one otherwise, so a Runner
        left with ``default_scope='mmengine'`` would hide mmvid's names)."""
        if isinstance(cfg, dict) and '_scope_' not in cfg:
            cfg = type(cfg)(cfg)
            cfg['_scope_'] = self.scope
        return super().build(cfg, *args, **kwargs)

    def __contains__(self, key: str) -> bool:
        try:
            return super().get(key) is not None
        except KeyError:
            return False

    def known_names(self) -> List[str]:
        """Names registered here and in every ancestor, sorted."""
        names, registry = set(), self
        while registry is not None:
            names.update(registry.module_dict)
            registry = registry.parent
        return sorted(names)

    def missing_key_message(self, key: str) -> str:
        _, real_key = self.split_scope_key(key)
        names = self.known_names()
        close = difflib.get_close_matches(real_key, names, n=5, cutoff=0.6)
        hint = (f'Did you mean: {", ".join(close)}?' if close else
                f'Registered names: {", ".join(names)}.')
        return (f"'{key}' is not in the {self.scope}::{self.name} registry. "
                f'{hint}')


def _child(name: str, parent: MMEngineRegistry,
           locations: Optional[List[str]] = None) -> Registry:
    return Registry(name, parent=parent, scope=SCOPE, locations=locations or [])


# Runner parts: mmvid uses mmengine's runner, loops and optimizers as they are.
RUNNERS = _child('runner', MMENGINE_RUNNERS)
RUNNER_CONSTRUCTORS = _child('runner constructor',
                             MMENGINE_RUNNER_CONSTRUCTORS)
LOOPS = _child('loop', MMENGINE_LOOPS)
OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS)
OPTIM_WRAPPERS = _child('optim_wrapper', MMENGINE_OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS)
HOOKS = _child('hook', MMENGINE_HOOKS, ['mmvid.engine'])
LOG_PROCESSORS = _child('log_processor', MMENGINE_LOG_PROCESSORS)
FUNCTIONS = _child('function', MMENGINE_FUNCTIONS, ['mmvid.datasets'])

# Data: datasets, samplers and transforms (mmvid.datasets).
DATASETS = _child('dataset', MMENGINE_DATASETS, ['mmvid.datasets'])
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS,
                       ['mmvid.datasets'])
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS, ['mmvid.datasets'])

# Models: backbones, heads, recognizers, losses, data preprocessors.
MODELS = _child('model', MMENGINE_MODELS, ['mmvid.models'])
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child('weight initializer',
                             MMENGINE_WEIGHT_INITIALIZERS)

# Evaluation and visualisation.
METRICS = _child('metric', MMENGINE_METRICS, ['mmvid.evaluation'])
EVALUATOR = _child('evaluator', MMENGINE_EVALUATOR)
VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS)
VISBACKENDS = _child('vis_backend', MMENGINE_VISBACKENDS)

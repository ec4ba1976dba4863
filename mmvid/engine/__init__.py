"""mmvid's training-loop parts for mmengine: hooks, optimizer wrappers, and
safe resuming.

Importing this package calls
:func:`mmvid.checkpoint.register_safe_globals`. From torch 2.6 on,
``torch.load`` defaults to ``weights_only=True``, so mmengine 0.10's
``Runner.resume`` and ``load_checkpoint`` refuse mmengine's own checkpoints:
their ``message_hub`` holds ``HistoryBuffer`` objects and numpy arrays. The
fix adds a small allow-list of those types (``SAFE_GLOBALS``) to torch's
safe globals; it never disables ``weights_only``, so a checkpoint that
references anything else (``os.system``, say) is still refused. It also
calls :func:`mmvid.checkpoint.mmengine_loaders.register_mmengine_loaders`:
mmengine's own loads (resume, ``load_from``) then go through mmvid's safe
loader even where the environment turns torch's default off
(``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``).
"""
from mmvid.checkpoint import register_safe_globals
from mmvid.checkpoint.mmengine_loaders import register_mmengine_loaders

from .hooks import SkippedSamplesHook
from .optim_wrappers import BF16OptimWrapper

register_safe_globals()
register_mmengine_loaders()

__all__ = ['SkippedSamplesHook', 'BF16OptimWrapper']

"""Loading checkpoints safely: an allow-list, never ``weights_only=False``.

Every checkpoint is read with ``torch.load(..., weights_only=True)``. The few
non-tensor types that real checkpoints contain (numpy scalars and arrays in
mmaction2 0.x ``meta``, mmengine's ``HistoryBuffer`` in ``message_hub``) are
allowed by :data:`SAFE_GLOBALS`; anything else, such as a pickle that calls
``os.system``, is refused with a :class:`CheckpointError`.

Typical use::

    from mmvid.checkpoint import load_checkpoint, resolve_pretrained
    load_checkpoint(model, resolve_pretrained('torchvision://resnet50'))
"""
from .errors import CheckpointError
from .pretrained import CHECKPOINTS_ENV, TORCHVISION_URLS, resolve_pretrained
from .safe_load import SAFE_GLOBALS, load_file, register_safe_globals
from .state_dict import get_state_dict, load_checkpoint, load_state_dict

__all__ = [
    'CheckpointError', 'SAFE_GLOBALS', 'register_safe_globals', 'load_file',
    'get_state_dict', 'load_state_dict', 'load_checkpoint',
    'resolve_pretrained', 'TORCHVISION_URLS', 'CHECKPOINTS_ENV'
]

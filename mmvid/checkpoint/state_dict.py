"""Finding a checkpoint's state dict and loading it into a model, loudly."""
import logging
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Tuple, Union

from mmengine.logging import MMLogger, print_log
from torch import Tensor, nn

from .errors import MAX_LISTED, CheckpointError, abbreviate
from .safe_load import load_file

# Where checkpoints keep their weights: mmaction2 / mmengine / mmvid,
# PySlowFast (.pyth), and other trainers.
_STATE_DICT_KEYS = ('state_dict', 'model_state', 'model')
_WRAPPER_PREFIX = 'module.'


def _is_bare_state_dict(obj: Any) -> bool:
    return (isinstance(obj, Mapping) and len(obj) > 0
            and all(isinstance(value, Tensor) for value in obj.values()))


def _strip_wrapper_prefix(state_dict: Mapping) -> 'OrderedDict[str, Tensor]':
    """Drop a leading ``module.`` (DataParallel / DDP) from every key."""
    n = len(_WRAPPER_PREFIX)
    stripped = OrderedDict(
        (key[n:] if key.startswith(_WRAPPER_PREFIX) else key, value)
        for key, value in state_dict.items())
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        stripped._metadata = OrderedDict(  # type: ignore[attr-defined]
            (_strip_module_path(key), value)
            for key, value in metadata.items())
    return stripped


def _strip_module_path(prefix: str) -> str:
    """``'module.fc'`` -> ``'fc'`` and ``'module'`` -> ``''``."""
    if prefix == _WRAPPER_PREFIX[:-1]:
        return ''
    if prefix.startswith(_WRAPPER_PREFIX):
        return prefix[len(_WRAPPER_PREFIX):]
    return prefix


def get_state_dict(
        checkpoint: Any,
        filename: str = '<checkpoint>') -> 'OrderedDict[str, Tensor]':
    """The model weights in a loaded checkpoint.

    Args:
        checkpoint: What :func:`load_file` returned: a dict with
            ``'state_dict'`` (mmaction2 0.x/1.x, mmengine, mmvid),
            ``'model_state'`` (PySlowFast) or ``'model'``, or a bare
            state dict (a mapping of tensors).
        filename: Used in error messages.

    Returns:
        The state dict, with a leading ``module.`` removed from every key.

    Raises:
        CheckpointError: if no state dict is found.
    """
    if isinstance(checkpoint, Mapping):
        for key in _STATE_DICT_KEYS:
            if key in checkpoint and isinstance(checkpoint[key], Mapping):
                return _strip_wrapper_prefix(checkpoint[key])
        if _is_bare_state_dict(checkpoint):
            return _strip_wrapper_prefix(checkpoint)
        found = f'its top-level keys are {list(checkpoint)[:MAX_LISTED]}'
        if len(checkpoint) > MAX_LISTED:
            found += f' ... and {len(checkpoint) - MAX_LISTED} more'
    else:
        found = f'it holds a {type(checkpoint).__name__}, not a dict'
    raise CheckpointError(
        f'no state dict in {filename}: {found}; expected one of '
        f'{list(_STATE_DICT_KEYS)} or a mapping of parameter names to '
        'tensors')




def _shape_mismatches(state_dict: Mapping, model_state: Mapping) -> List[str]:
    """``'key: checkpoint shape [a, b] vs model shape [c, d]'`` lines."""
    lines = []
    for key, value in state_dict.items():
        target = model_state.get(key)
        if (isinstance(value, Tensor) and isinstance(target, Tensor)
                and value.shape != target.shape):
            lines.append(f'{key}: checkpoint shape {list(value.shape)} vs '
                         f'model shape {list(target.shape)}')
    return lines


def _load_summary(source: str, num_loaded: int, num_total: int,
                  missing: List[str], unexpected: List[str]) -> str:
    lines = [f'loaded {num_loaded}/{num_total} tensors from {source}']
    if missing:
        lines.append(f'missing keys ({len(missing)}): {abbreviate(missing)}')
    if unexpected:
        lines.append(f'unexpected keys ({len(unexpected)}): '
                     f'{abbreviate(unexpected)}')
    return '\n'.join(lines)


def load_state_dict(
        module: nn.Module,
        state_dict: Mapping,
        strict: bool = False,
        logger: Union[str, MMLogger, None] = 'current',
        source: str = '<state_dict>') -> Tuple[List[str], List[str]]:
    """Copy ``state_dict`` into ``module``, never skipping a shape mismatch.

    Every problem is checked before any weight is copied, so an error leaves
    ``module`` unchanged. Missing keys are model entries the state dict lacks
    (``num_batches_tracked`` included); unexpected keys are entries the model
    does not have.

    Args:
        module: The model.
        state_dict: Parameter name to tensor.
        strict: Raise if any key is missing or unexpected.
        logger: Where the summary goes, see ``mmengine.logging.print_log``.
        source: Names the state dict (a file name) in messages.

    Returns:
        ``(missing_keys, unexpected_keys)``.

    Raises:
        CheckpointError: if a tensor's shape differs from the model's, or,
            with ``strict``, if a key is missing or unexpected.
    """
    model_state = module.state_dict()
    mismatches = _shape_mismatches(state_dict, model_state)
    if mismatches:
        raise CheckpointError(
            f'cannot load {source}: {len(mismatches)} tensor(s) differ in '
            'shape from the model:\n  ' +
            '\n  '.join(mismatches[:MAX_LISTED]) +
            (f'\n  ... and {len(mismatches) - MAX_LISTED} more'
             if len(mismatches) > MAX_LISTED else ''))
    missing = [key for key in model_state if key not in state_dict]
    unexpected = [key for key in state_dict if key not in model_state]
    summary = _load_summary(source,
                            len(model_state) - len(missing), len(model_state),
                            missing, unexpected)
    if strict and (missing or unexpected):
        raise CheckpointError(f'strict loading failed: {summary}')
    # A copy: BatchNorm's loader adds num_batches_tracked to the dict it gets.
    to_load = OrderedDict(state_dict)
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        to_load._metadata = metadata  # type: ignore[attr-defined]
    module.load_state_dict(to_load, strict=False)
    level = logging.WARNING if missing or unexpected else logging.INFO
    print_log(summary, logger=logger, level=level)
    return missing, unexpected


def load_checkpoint(model: nn.Module,
                    filename: str,
                    strict: bool = False,
                    logger: Union[str, MMLogger, None] = 'current',
                    map_location: Any = 'cpu') -> Dict[str, Any]:
    """Load the weights of a checkpoint file into ``model``.

    Args:
        model: The model.
        filename: A local checkpoint (see :func:`resolve_pretrained` for
            ``torchvision://`` names and URLs).
        strict: Raise if any key is missing or unexpected.
        logger: Where the summary goes, see ``mmengine.logging.print_log``.
        map_location: Passed to ``torch.load``.

    Returns:
        The whole checkpoint (``meta`` and so on), as read by
        :func:`load_file`.

    Raises:
        FileNotFoundError: if the file does not exist.
        CheckpointError: see :func:`load_file`, :func:`get_state_dict` and
            :func:`load_state_dict`.
    """
    checkpoint = load_file(filename, map_location=map_location)
    state_dict = get_state_dict(checkpoint, filename)
    load_state_dict(model,
                    state_dict,
                    strict=strict,
                    logger=logger,
                    source=filename)
    return checkpoint

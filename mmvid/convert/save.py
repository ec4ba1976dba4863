"""Writing a converted checkpoint atomically."""
import os
import os.path as osp
import uuid
from typing import Any, Dict, Mapping

import torch


def save_converted(state_dict: Mapping[str, torch.Tensor], out: str,
                   meta: Dict[str, Any]) -> None:
    """Write ``{'state_dict': state_dict, 'meta': meta}`` to ``out``.

    The file is written to a temporary file in ``out``'s folder and moved
    into place with ``os.replace``: ``out`` is either the complete new file
    or untouched, never half-written; the temporary file is removed on any
    error.

    Args:
        state_dict: The converted weights.
        out: The destination; its folder is created if needed.
        meta: Plain data (str, numbers, bools), e.g. ``converted_from``,
            ``format``, ``config``, ``mmvid_version``.
    """
    out = osp.abspath(osp.expanduser(out))
    folder = osp.dirname(out)
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(out)}.{uuid.uuid4().hex}.tmp')
    try:
        with open(tmp, 'xb') as file:
            torch.save({'state_dict': dict(state_dict), 'meta': meta}, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, out)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise

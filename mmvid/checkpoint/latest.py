"""Finding the checkpoint to resume from: the newest one that is complete."""
import os
import os.path as osp
import re
import zipfile
from typing import Callable, List, Optional

STEP_FILE = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def is_complete(path: str) -> bool:
    """Whether ``path`` is a whole torch zip checkpoint: its central
    directory is there and every member's CRC checks (a file cut by a crash
    mid-write fails)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def checkpoint_candidates(work_dir: str) -> List[str]:
    """Checkpoints of ``work_dir``, newest first: the one ``last_checkpoint``
    names, then ``epoch_N.pth`` / ``iter_N.pth`` by decreasing N."""
    found = []
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record) as f:
            named = f.read().strip()
        if named:
            found.append(named if osp.isabs(named) else
                         osp.join(work_dir, named))
    steps = []
    for name in os.listdir(work_dir) if osp.isdir(work_dir) else []:
        match = STEP_FILE.match(name)
        if match:
            steps.append((int(match.group(2)), osp.join(work_dir, name)))
    for _, path in sorted(steps, reverse=True):
        if path not in found:
            found.append(path)
    return found


def find_resumable(work_dir: str,
                   warn: Callable[[str], None]) -> Optional[str]:
    """The newest complete checkpoint of ``work_dir`` (None if there is
    none); each missing or truncated candidate passed over is reported
    through ``warn``."""
    for path in checkpoint_candidates(work_dir):
        if not osp.isfile(path):
            warn(f'--resume: {path} (named by last_checkpoint) does not '
                 'exist; looking for an older checkpoint')
        elif not is_complete(path):
            warn(f'--resume: {path} is truncated or corrupt (a save that '
                 'did not finish); passing over it')
        else:
            return path
    return None

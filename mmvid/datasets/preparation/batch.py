"""Run one job per file, optionally in worker processes, with a progress bar,
and collect what was done, skipped and failed."""
import sys
from dataclasses import dataclass, field
from multiprocessing import Pool
from typing import Callable, Dict, List, Sequence, TypeVar

T = TypeVar('T')
R = TypeVar('R')


def check_num_workers(num_workers: int) -> int:
    """``num_workers`` checked to be an int >= 1."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) \
            or num_workers < 1:
        raise ValueError(
            f'num_workers must be an int >= 1, got {num_workers!r}')
    return num_workers


def run_tasks(func: Callable[[T], R],
              tasks: Sequence[T],
              num_workers: int = 1,
              progress: bool = True) -> List[R]:
    """``[func(task) for task in tasks]``, in order.

    Args:
        func (callable): A module-level function (worker processes pickle
            it).
        tasks (Sequence): One argument per call.
        num_workers (int): Worker processes; 1 runs in this process.
        progress (bool): Show mmengine's progress bar on stdout.

    Returns:
        list: The results, in the order of ``tasks``.
    """
    check_num_workers(num_workers)
    tasks = list(tasks)
    if not tasks:
        return []
    workers = min(num_workers, len(tasks))
    if progress:
        from mmengine.utils import track_parallel_progress, track_progress
        if workers == 1:
            return track_progress(func, tasks, file=sys.stdout)
        return track_parallel_progress(
            func, tasks, nproc=workers, file=sys.stdout)
    if workers == 1:
        return [func(task) for task in tasks]
    with Pool(workers) as pool:
        return pool.map(func, tasks, chunksize=1)


@dataclass
class BatchReport:
    """What a folder-level job did, per file.

    Attributes:
        done (list[str]): Inputs processed in this run.
        skipped (list[str]): Inputs whose complete output existed already.
        failed (dict[str, str]): Input -> one-line reason.
    """
    done: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    failed: Dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed

    def add(self, status: str, path: str, reason: str = '') -> None:
        """Record ``path`` as 'done', 'skipped' or 'failed' (with reason)."""
        if status == 'done':
            self.done.append(path)
        elif status == 'skipped':
            self.skipped.append(path)
        elif status == 'failed':
            self.failed[path] = reason
        else:
            raise ValueError(
                f"status must be 'done', 'skipped' or 'failed', got "
                f'{status!r}')

    def summary(self) -> str:
        """A few lines for a terminal: counts, then each failure."""
        lines = [f'done: {len(self.done)}, skipped (complete already): '
                 f'{len(self.skipped)}, failed: {len(self.failed)}']
        lines += [f'  FAILED {path}: {reason}'
                  for path, reason in sorted(self.failed.items())]
        return '\n'.join(lines)

"""Run one job per file, optionally in worker processes, with a progress bar,
and collect what was done, skipped and failed."""
import sys
from dataclasses import dataclass, field
from multiprocessing import Pool
from typing import (Callable, Dict, List, Optional, Sequence, Tuple, Type,
                    TypeVar, Union)

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


def _run_file_job(task: tuple) -> Tuple[str, str, str]:
    """One input of :func:`run_file_jobs`: ``(status, rel, reason)``."""
    job, is_complete, errors, overwrite, job_kwargs, (rel, src, dst) = task
    if not overwrite and is_complete(dst):
        return 'skipped', rel, ''
    try:
        job(src, dst, **job_kwargs)
    except errors as e:
        return 'failed', rel, str(e)
    return 'done', rel, ''


def run_file_jobs(job: Callable[..., object],
                  paths: Sequence[Tuple[str, str, str]],
                  is_complete: Callable[[str], bool],
                  errors: Union[Type[Exception], Tuple[Type[Exception], ...]],
                  overwrite: bool = False,
                  job_kwargs: Optional[dict] = None,
                  num_workers: int = 1,
                  progress: bool = True) -> BatchReport:
    """Run ``job(src, dst, **job_kwargs)`` for each ``(rel, src, dst)`` of
    ``paths`` (a folder-level batch: one output per input file) and report
    each input by its name ``rel``.

    An input is 'skipped' when its output is complete already
    (``is_complete(dst)``) unless ``overwrite``; 'failed', with the error's
    text as the reason, when ``job`` raises one of ``errors`` (the batch goes
    on); 'done' otherwise. Any other exception stops the batch.

    Args:
        job (callable): Writes ``dst`` from ``src``; a module-level function,
            as ``is_complete`` (worker processes pickle them).
        paths (Sequence[tuple]): ``(rel, src, dst)`` per input.
        is_complete (callable): ``dst -> bool``.
        errors (type or tuple): The exceptions that fail one input only.
        overwrite (bool): Run ``job`` for complete outputs too.
        job_kwargs (dict, optional): Keyword arguments of ``job``.
        num_workers (int): Worker processes; see :func:`run_tasks`.
        progress (bool): Show a progress bar.

    Returns:
        BatchReport: The ``rel`` names done, skipped and failed, in the
        order of ``paths``.
    """
    job_kwargs = job_kwargs or {}
    results = run_tasks(
        _run_file_job,
        [(job, is_complete, errors, overwrite, job_kwargs, path)
         for path in paths],
        num_workers=num_workers, progress=progress)
    report = BatchReport()
    for status, rel, reason in results:
        report.add(status, rel, reason)
    return report

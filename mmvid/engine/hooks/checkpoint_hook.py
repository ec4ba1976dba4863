"""mmengine's ``CheckpointHook`` with checkpoints that are never lost.

Registered in mmvid's scope under mmengine's name, so every config's
``default_hooks.checkpoint = dict(type='CheckpointHook', ...)`` gets it.
Same arguments and file names as mmengine's; what changes, for local
folders:

- **atomic, durable saves**: each checkpoint (regular and best) is written to
  a hidden ``.<name>.partial`` file, fsynced and renamed; ``last_checkpoint``
  likewise. A ``kill -9`` mid-save leaves the previous files intact.
- **deletion after the fact**: with ``max_keep_ckpts``, the oldest
  checkpoint, and the previous best one, are removed only once the new file
  is durable (mmengine removed them first).
- **contained**: best-checkpoint paths are stored relative to the run's
  folder; a path recorded by another run (resuming from its checkpoint) is
  never deleted: only files inside this run's folder are.
- leftover ``.partial`` files of a killed save are removed at the start.
"""
import os
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook

from mmvid.checkpoint.durable import (PARTIAL_SUFFIX, commit_partial,
                                      is_inside, partial_path,
                                      remove_durable, write_text_durable)
from mmvid.registry import HOOKS

BEST_KEY = 'best_ckpt'


@HOOKS.register_module(name='CheckpointHook')
@HOOKS.register_module()
class DurableCheckpointHook(MMEngineCheckpointHook):
    """``CheckpointHook`` whose files survive a crash at any moment (see
    the module docstring); arguments as mmengine's ``CheckpointHook``."""

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self.local = isinstance(self.file_backend, LocalBackend)
        if not self.local:
            return
        if is_main_process() and osp.isdir(self.out_dir):
            for name in os.listdir(self.out_dir):
                if name.startswith('.') and name.endswith(PARTIAL_SUFFIX):
                    os.remove(osp.join(self.out_dir, name))
        if self.save_best is None:
            return
        if len(self.key_indicators) == 1:
            self.best_ckpt_path = self._own_best(runner, BEST_KEY)
        else:
            for key in self.key_indicators:
                self.best_ckpt_path_dict[key] = self._own_best(
                    runner, f'{BEST_KEY}_{key}')

    def _own_best(self, runner, info_key: str) -> Optional[str]:
        """The recorded best checkpoint as a path in this run's folder, or
        None (with a warning) when it lies outside it."""
        recorded = runner.message_hub.runtime_info.get(info_key)
        if recorded is None:
            return None
        path = recorded if osp.isabs(recorded) else osp.join(
            self.out_dir, recorded)
        if not is_inside(path, self.out_dir):
            runner.logger.warning(
                f'the best checkpoint recorded in the resumed checkpoint, '
                f'{recorded}, is outside this run\'s folder {self.out_dir}: '
                'it is left alone, and this run keeps its own best checkpoint')
            runner.message_hub.runtime_info.pop(info_key)
            return None
        runner.message_hub.update_info(info_key, path)
        return path

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Best-checkpoint paths go into the file relative to the folder."""
        info = checkpoint.get('message_hub', {}).get('runtime_info', {})
        for key, value in info.items():
            if key.startswith(BEST_KEY) and isinstance(value, str) and \
                    osp.isabs(value) and is_inside(value, self.out_dir):
                info[key] = osp.relpath(value, self.out_dir)

    def _save_durably(self, runner, filename: str, **kwargs) -> None:
        """``runner.save_checkpoint`` to ``.<filename>.partial``, then fsync
        and rename to ``filename`` (main process; the others write
        nothing)."""
        final = osp.join(self.out_dir, filename)
        partial = partial_path(final)
        runner.save_checkpoint(self.out_dir, osp.basename(partial),
                               self.file_client_args,
                               backend_args=self.backend_args, **kwargs)
        if is_main_process():
            commit_partial(partial, final)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if not self.local:
            return super()._save_checkpoint_with_step(runner, step, meta)
        expired = None
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                expired = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = osp.join(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._save_durably(
            runner, filename, save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta,
            by_epoch=self.by_epoch, **self.args)
        if not is_main_process():
            return
        write_text_durable(osp.join(runner.work_dir, 'last_checkpoint'),
                           self.last_ckpt)
        if expired is not None:  # only now that the new one is durable
            remove_durable(
                osp.join(self.out_dir, self.filename_tmpl.format(expired)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not self.local:
            return super()._save_best_checkpoint(runner, metrics)
        if not self.save_best:
            return
        step = runner.epoch if self.by_epoch else runner.iter
        unit = 'epoch' if self.by_epoch else 'iter'
        ckpt_filename = self.filename_tmpl.format(step)
        meta = dict(epoch=runner.epoch, iter=runner.iter)
        if 'auto' in self.key_indicators:
            self._init_rule(self.rules, [list(metrics.keys())[0]])
        updated = False
        single = len(self.key_indicators) == 1
        for key, rule in zip(self.key_indicators, self.rules):
            score_key = 'best_score' if single else f'best_score_{key}'
            info_key = BEST_KEY if single else f'{BEST_KEY}_{key}'
            best = runner.message_hub.runtime_info.get(
                score_key, self.init_value_map[rule])
            score = metrics[key]
            if score is None or not self.is_better_than[key](score, best):
                continue
            updated = True
            runner.message_hub.update_info(score_key, score)
            previous = self.best_ckpt_path if single else \
                self.best_ckpt_path_dict[key]
            name = f'best_{key}_{ckpt_filename}'.replace('/', '_')
            path = osp.join(self.out_dir, name)
            if single:
                self.best_ckpt_path = path
            else:
                self.best_ckpt_path_dict[key] = path
            runner.message_hub.update_info(info_key, path)
            self._save_durably(runner, name, save_optimizer=False,
                               save_param_scheduler=False, meta=meta,
                               by_epoch=False)
            runner.logger.info(f'The best checkpoint with {score:0.4f} {key} '
                               f'at {step} {unit} is saved to {name}.')
            if previous and previous != path and is_main_process() and \
                    is_inside(previous, self.out_dir) and \
                    remove_durable(previous):
                runner.logger.info(
                    f'The previous best checkpoint {previous} is removed')
        # as mmengine: save the regular checkpoint again so that the one on
        # disk records the new best score and path
        if updated and self.last_ckpt is not None:
            self._save_checkpoint_with_step(runner, step, meta)

"""``SkippedSamplesHook``: exact counts of the samples a dataset skipped,
read from the batches (so worker processes do not hide them), logged per
train epoch, validation and test, then reset."""
import glob
import re
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mmvid.datasets.errors import BadSampleError
from mmvid.datasets.samplers import EpochSeedSampler
from mmvid.datasets.video_dataset import VideoDataset
from mmvid.engine.hooks.skipped_samples_hook import (SkippedSamplesHook,
                                                     skips_in_batch)
from mmvid.registry import HOOKS
from mmvid.structures import ActionDataSample


class FailOn:
    """Raises ``BadSampleError`` for the files named in ``bad``."""

    def __init__(self, bad):
        self.bad = set(bad)

    def __call__(self, results):
        if results['filename'] in self.bad:
            raise BadSampleError(f'cannot decode {results["filename"]}')
        return results


def pack(results):
    """A tiny PackActionInputs."""
    data_sample = ActionDataSample(metainfo=dict(
        filename=results['filename']))
    data_sample.set_gt_label(results['label'])
    return dict(inputs=torch.from_numpy(results['rng'].random(2)),
                data_samples=data_sample)


class Recorder:
    """A stand-in logger keeping the warnings."""

    def __init__(self):
        self.warnings = []

    def warning(self, message):
        self.warnings.append(message)


def fake_runner(epoch=0):
    return SimpleNamespace(logger=Recorder(), epoch=epoch)


def batch_with(*skips_per_sample):
    samples = []
    for skipped in skips_per_sample:
        sample = ActionDataSample()
        if skipped is not None:
            sample.set_metainfo(dict(skipped=skipped))
        samples.append(sample)
    return dict(inputs=[torch.zeros(1)] * len(samples), data_samples=samples)


def dataset(tmp_path, bad, n=9):
    ann = tmp_path / 'list.txt'
    ann.write_text(''.join(f'v{i}.mp4 {i % 2}\n' for i in range(n)))
    return VideoDataset(str(ann), [FailOn(bad), pack], on_error='skip',
                        seed=0)


def test_skips_in_batch():
    batch = batch_with([(3, 'a.mp4', 'r1')], None, [],
                       [(7, 'b.mp4', 'r2'), (8, 'c.mp4', 'r3')])
    assert skips_in_batch(batch) == [(3, 'a.mp4', 'r1'), (7, 'b.mp4', 'r2'),
                                     (8, 'c.mp4', 'r3')]
    assert skips_in_batch(None) == []
    assert skips_in_batch(dict(inputs=[1])) == []


def test_summary_per_epoch_then_reset():
    hook = HOOKS.build(dict(type='SkippedSamplesHook'))
    assert isinstance(hook, SkippedSamplesHook)
    runner = fake_runner(epoch=2)
    hook.after_train_iter(runner, 0, batch_with([(4, 'a.mp4', 'moov atom '
                                                  'not found')], []))
    hook.after_train_iter(runner, 1, batch_with([], [(9, 'b.mp4', 'empty '
                                                      'file')]))
    hook.after_train_epoch(runner)
    message = ('skipped 2 bad samples in train epoch 3: a.mp4 (moov atom not '
               'found), b.mp4 (empty file)')
    assert runner.logger.warnings == [message]
    assert hook.last_summary['train'] == message
    # reset: a clean epoch logs nothing
    hook.after_train_iter(runner, 0, batch_with([], []))
    hook.after_train_epoch(runner)
    hook.after_train(runner)
    assert runner.logger.warnings == [message]


def test_val_and_test_are_counted_apart_from_train():
    hook = SkippedSamplesHook()
    runner = fake_runner()
    hook.after_train_iter(runner, 0, batch_with([(1, 't.mp4', 'r')]))
    hook.after_val_iter(runner, 0, batch_with([(2, 'v.mp4', 'r')]))
    hook.after_val_epoch(runner, metrics={})
    hook.after_test_iter(runner, 0, batch_with([(3, 'x.mp4', 'r')],
                                               [(4, 'y.mp4', 'r')]))
    hook.after_test_epoch(runner, metrics={})
    hook.after_train_epoch(runner)
    assert runner.logger.warnings == [
        'skipped 1 bad sample in val: v.mp4 (r)',
        'skipped 2 bad samples in test: x.mp4 (r), y.mp4 (r)',
        'skipped 1 bad sample in train epoch 1: t.mp4 (r)',
    ]


def test_long_lists_are_abbreviated_and_repeats_counted():
    hook = SkippedSamplesHook(max_listed=2)
    runner = fake_runner()
    hook.after_train_iter(runner, 0, batch_with(
        [(0, 'a', 'r0'), (1, 'b', 'r1')], [(1, 'b', 'r1')],
        [(2, 'c', 'r2'), (3, 'd', 'r3')]))
    hook.after_train_epoch(runner)
    assert runner.logger.warnings == [
        'skipped 5 bad samples (4 distinct files) in train epoch 1: a (r0), '
        'b (r1), ... and 2 more']
    with pytest.raises(ValueError, match='max_listed must be an int >= 0, '
                       'got -1'):
        SkippedSamplesHook(max_listed=-1)


def test_exact_count_through_loader_workers(tmp_path):
    ds = dataset(tmp_path, bad={'v2.mp4', 'v5.mp4', 'v6.mp4'})
    loader = DataLoader(ds, batch_size=2, num_workers=2,
                        sampler=EpochSeedSampler(ds, shuffle=False, seed=0),
                        collate_fn=pseudo_collate, persistent_workers=False)
    hook = SkippedSamplesHook()
    runner = fake_runner()
    loaded = []
    for batch_idx, batch in enumerate(loader):
        loaded += [sample.filename for sample in batch['data_samples']]
        hook.after_train_iter(runner, batch_idx, batch)
    hook.after_train_epoch(runner)
    # every index gave a good sample; 5 and 6 were tried twice (for 5, 6)
    assert loaded == ['v0.mp4', 'v1.mp4', 'v3.mp4', 'v3.mp4', 'v4.mp4',
                      'v7.mp4', 'v7.mp4', 'v7.mp4', 'v8.mp4']
    assert runner.logger.warnings == [
        'skipped 4 bad samples (3 distinct files) in train epoch 1: v2.mp4 '
        '(cannot decode v2.mp4), v5.mp4 (cannot decode v5.mp4), v6.mp4 '
        '(cannot decode v6.mp4)']


class ToyModel(BaseModel):
    """Fits one weight to the mean of the inputs."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        target = torch.stack(inputs).float().mean()
        return dict(loss=((self.weight - target)**2).sum())


def test_runner_logs_the_skips_of_each_epoch(tmp_path):
    ds = dataset(tmp_path, bad={'v1.mp4', 'v4.mp4'}, n=6)
    runner = Runner(
        model=ToyModel(),
        work_dir=str(tmp_path / 'work'),
        train_dataloader=dict(
            dataset=ds, batch_size=2, num_workers=2,
            persistent_workers=False,
            sampler=dict(type='EpochSeedSampler', shuffle=True),
            worker_init_fn=dict(type='mmvid.limit_worker_threads')),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=None),
        custom_hooks=[dict(type='SkippedSamplesHook')],
        randomness=dict(seed=0),
        default_scope='mmvid')
    runner.train()
    log, = glob.glob(osp.join(str(tmp_path / 'work'), '*', '*.log'))
    with open(log) as f:
        text = f.read()
    files = r'v[14]\.mp4 \(cannot decode v[14]\.mp4\)'
    for epoch in (1, 2):
        assert len(re.findall(
            f'skipped 2 bad samples in train epoch {epoch}: {files}, {files}',
            text)) == 1
    assert 'in training' not in text  # after_train found nothing left

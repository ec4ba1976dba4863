"""``PreciseBNHook``: BN statistics equal to the average over training
batches of each batch's mean and unbiased variance, computed here by hand
from the inputs of the BN layers; everything else about the model as it
was."""
import glob
import os.path as osp
import socket
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as torch_dist
import torch.nn.functional as F
from mmengine.model import (BaseDataPreprocessor, BaseModel,
                            MMDistributedDataParallel)
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from torch import nn

from mmvid.engine.hooks import PreciseBNHook
from mmvid.engine.hooks import precise_bn_hook
from mmvid.engine.hooks.precise_bn_hook import update_bn_stats
from mmvid.registry import HOOKS

EPS = 1e-5
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class TinyBNNet(BaseModel):
    """Conv3d -> BN3d -> ReLU -> Conv3d -> BN3d, plus a BN kept in eval
    mode by ``train()`` (as ``norm_eval`` does) on the first conv's
    output."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv3d(2, 3, 3, padding=1)
        self.bn1 = nn.BatchNorm3d(3, eps=EPS, momentum=0.3)
        self.conv2 = nn.Conv3d(3, 4, 1)
        self.bn2 = nn.BatchNorm3d(4, eps=EPS, momentum=None)
        self.frozen = nn.BatchNorm3d(3)
        self.fc = nn.Linear(4, 2)

    def train(self, mode=True):
        super().train(mode)
        self.frozen.eval()
        return self

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = self.conv1(inputs)
        self.frozen(x)
        x = self.bn2(self.conv2(F.relu(self.bn1(x))))
        return self.fc(x.mean((2, 3, 4)))


class NoBNNet(BaseModel):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(2, 3, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.conv(inputs)


class Logger:

    def __init__(self):
        self.infos, self.warnings = [], []

    def info(self, message):
        self.infos.append(message)

    def warning(self, message):
        self.warnings.append(message)


def make_model():
    torch.manual_seed(0)
    model = TinyBNNet()
    for bn in (model.bn1, model.bn2, model.frozen):
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.num_batches_tracked.fill_(7)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.5, 0.5)
    return model


def make_batches(n):
    g = torch.Generator().manual_seed(1)
    # batch b has its own offset, so the batches' statistics differ
    return [dict(inputs=torch.randn(3, 2, 4, 5, 5, generator=g) * (b + 1)
                 + b) for b in range(n)]


def channel_stats(x):
    """Per-channel mean and unbiased variance of ``[N, C, T, H, W]``."""
    flat = x.transpose(0, 1).reshape(x.shape[1], -1).double()
    return flat.mean(1), flat.var(1, unbiased=True)


def by_hand(model, batches):
    """The expected precise statistics of bn1 and bn2: the inputs of each
    layer computed with the convolutions and the batch-statistics BN of
    train mode written out, their per-batch stats averaged."""
    sums = dict(m1=0, v1=0, m2=0, v2=0)
    with torch.no_grad():
        for batch in batches:
            x1 = model.conv1(batch['inputs'])
            m1, v1 = channel_stats(x1)
            biased = x1.var((0, 2, 3, 4), unbiased=False)
            shape = (1, -1, 1, 1, 1)
            y1 = ((x1 - x1.mean((0, 2, 3, 4)).view(shape))
                  / torch.sqrt(biased.view(shape) + EPS)
                  * model.bn1.weight.view(shape)
                  + model.bn1.bias.view(shape))
            x2 = model.conv2(F.relu(y1))
            m2, v2 = channel_stats(x2)
            for key, value in zip(('m1', 'v1', 'm2', 'v2'),
                                  (m1, v1, m2, v2)):
                sums[key] = sums[key] + value
    return {key: (value / len(batches)).float()
            for key, value in sums.items()}


def assert_precise(model, expected):
    for name, bn in (('1', model.bn1), ('2', model.bn2)):
        torch.testing.assert_close(bn.running_mean, expected['m' + name],
                                   rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(bn.running_var, expected['v' + name],
                                   rtol=1e-5, atol=1e-5)


def frozen_state(model):
    return {k: v.clone() for k, v in model.state_dict().items()
            if not k.startswith(('bn1.running_', 'bn2.running_'))}


@pytest.mark.parametrize('training', [False, True])
def test_statistics_are_the_average_of_the_batch_statistics(training):
    model = make_model().train(training)
    batches = make_batches(4)
    expected = by_hand(model, batches)
    before = frozen_state(model)
    initial_mean = model.bn1.running_mean.clone()
    modes = {name: m.training for name, m in model.named_modules()}
    torch.manual_seed(3)
    rng_next = torch.rand(3)
    torch.manual_seed(3)
    logger = Logger()
    assert update_bn_stats(model, batches, 4, logger, log_interval=2) == 4
    assert_precise(model, expected)
    # the stats really moved (the random init was far from them)
    assert not torch.allclose(model.bn1.running_mean, initial_mean,
                              atol=0.1)
    # weights, num_batches_tracked, the frozen BN's stats: as they were
    after = frozen_state(model)
    assert list(after) == list(before)
    for key in before:
        assert torch.equal(after[key], before[key]), key
    assert model.bn1.momentum == 0.3 and model.bn2.momentum is None
    assert {name: m.training for name, m in model.named_modules()} == modes
    assert torch.equal(torch.rand(3), rng_next)  # random stream untouched
    assert logger.infos == [
        'PreciseBN: recomputing the statistics of 2 BatchNorm layers on 4 '
        'training batches', 'PreciseBN: 2/4 batches',
        'PreciseBN: 4/4 batches', 'PreciseBN: done, 4 batches']
    assert logger.warnings == []


class BlendingPreprocessor(BaseDataPreprocessor):
    """Blends (here: reverses and doubles the batch) when ``training``, as
    ``ActionDataPreprocessor(blending=...)`` mixes only then."""

    def forward(self, data, training=False):
        data = super().forward(data, training)
        if training:
            data['inputs'] = data['inputs'].flip(0) * 2
        return data


def test_statistics_are_those_of_the_unblended_batches():
    """MixUp / CutMix belong to the training step: the precise statistics
    are those of the batches as they are (PySlowFast's loader)."""
    model = make_model().train()
    model.data_preprocessor = BlendingPreprocessor()
    batches = make_batches(3)
    expected = by_hand(model, batches)
    assert update_bn_stats(model, batches, 3) == 3
    assert_precise(model, expected)


def test_only_num_batches_are_used():
    model = make_model()
    batches = make_batches(5)
    expected = by_hand(model, batches[:2])
    assert update_bn_stats(model, iter(batches), 2) == 2
    assert_precise(model, expected)


def test_a_shorter_loader_is_used_whole_with_a_warning():
    model = make_model()
    batches = make_batches(3)
    expected = by_hand(model, batches)
    logger = Logger()
    assert update_bn_stats(model, batches, 200, logger) == 3
    assert_precise(model, expected)
    assert logger.warnings == [
        'PreciseBN: the training loader gave 3 batches, fewer than '
        'num_batches=200; the statistics use all 3']


def test_an_empty_loader_changes_nothing():
    model = make_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    logger = Logger()
    assert update_bn_stats(model, [], 5, logger) == 0
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert logger.warnings == [
        'PreciseBN: the training loader gave no batch; the statistics are '
        'left as they are']


def test_a_model_without_bn_is_left_alone_with_a_warning():
    torch.manual_seed(0)
    model = NoBNNet().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    logger = Logger()
    calls = []
    batches = (calls.append(b) or dict(inputs=torch.ones(1, 2, 1, 1, 1))
               for b in range(3))
    assert update_bn_stats(model, batches, 5, logger) == 0
    assert calls == []  # no batch drawn
    assert not model.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])
    assert logger.warnings == [
        'PreciseBN: the model has no BatchNorm layer in train mode; its '
        'statistics are left as they are']


def test_a_failing_batch_restores_the_model():
    model = make_model().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batches = make_batches(1) + [dict(inputs=torch.ones(1, 5, 1, 1, 1))]
    with pytest.raises(RuntimeError):
        update_bn_stats(model, batches, 2)
    # statistics, counters, momentum and modes as before the call
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert model.bn1.momentum == 0.3 and model.bn2.momentum is None
    assert not any(m.training for m in model.modules())


def test_ranks_average_their_statistics(monkeypatch):
    """Distributed (forced): each BN's mean and var go through an
    all_reduce mean after the local average."""
    reduced = []

    def fake_all_reduce(tensor, op):
        reduced.append((tensor.clone(), op))
        tensor.mul_(2)  # what the other ranks would change

    monkeypatch.setattr(precise_bn_hook, 'get_world_size', lambda: 2)
    monkeypatch.setattr(precise_bn_hook, 'all_reduce', fake_all_reduce)
    model = make_model()
    batches = make_batches(2)
    expected = by_hand(model, batches)
    update_bn_stats(model, batches, 2)
    assert [op for _, op in reduced] == ['mean'] * 4
    local = [expected[k] for k in ('m1', 'v1', 'm2', 'v2')]
    for (tensor, _), value in zip(reduced, local):
        torch.testing.assert_close(tensor, value, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(model.bn2.running_var, 2 * expected['v2'],
                               rtol=1e-5, atol=1e-5)


def fake_runner(model, batches, epoch=0, max_epochs=3,
                loop=EpochBasedTrainLoop):
    return SimpleNamespace(
        model=model, train_dataloader=batches, logger=Logger(), epoch=epoch,
        max_epochs=max_epochs, train_loop=object.__new__(loop))


def test_hook_runs_every_interval_epochs_and_after_the_last():
    hook = HOOKS.build(dict(type='PreciseBNHook', num_batches=2,
                            interval=2))
    ran = []
    for epoch in range(5):
        runner = fake_runner(make_model(), make_batches(3), epoch,
                             max_epochs=5)
        hook.last_num_batches = None
        hook.after_train_epoch(runner)
        if hook.last_num_batches is not None:
            ran.append(epoch + 1)
            assert hook.last_num_batches == 2
    assert ran == [2, 4, 5]


def test_hook_unwraps_a_distributed_model(tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    torch_dist.init_process_group('gloo', f'tcp://127.0.0.1:{port}',
                                  rank=0, world_size=1)
    try:
        model = make_model()
        batches = make_batches(2)
        expected = by_hand(model, batches)
        wrapped = MMDistributedDataParallel(module=model)
        runner = fake_runner(wrapped, batches)
        assert PreciseBNHook(num_batches=2).run(runner) == 2
        assert_precise(model, expected)
    finally:
        torch_dist.destroy_process_group()


def test_hook_refuses_iteration_based_loops():
    hook = PreciseBNHook()
    hook.before_train(fake_runner(make_model(), []))  # epoch-based: fine
    with pytest.raises(ValueError, match='epoch-based train loop'):
        hook.before_train(fake_runner(make_model(), [],
                                      loop=IterBasedTrainLoop))


@pytest.mark.parametrize('key', ['num_batches', 'interval', 'log_interval'])
@pytest.mark.parametrize('value', [0, -3, 2.0, True, '200', None])
def test_constructor_rejects_non_positive_ints(key, value):
    with pytest.raises(ValueError,
                       match=f'PreciseBNHook: {key} must be a positive int, '
                       f'got {value!r}'):
        PreciseBNHook(**{key: value})


def test_constructor_rejects_unknown_arguments():
    with pytest.raises(TypeError, match='num_batch'):
        HOOKS.build(dict(type='PreciseBNHook', num_batch=200))
    hook = PreciseBNHook(num_batches=7, interval=3)
    assert (hook.num_batches, hook.interval, hook.priority) == (
        7, 3, 'ABOVE_NORMAL')


# -- a Runner training the demo model on a tiny synthetic set -------------

def train_demo(root, work_dir, precise_bn):
    """One epoch of the demo config (4 clips, batch 1, no validation nor
    checkpoints), with or without the hook; returns the runner."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmvid.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'recognition', 'i3d',
        'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py'))
    loader = cfg.train_dataloader
    loader.dataset.update(ann_file=str(root / 'train_list_videos.txt'),
                          label_file=str(root / 'label_map.txt'),
                          data_prefix=dict(video=str(root)))
    loader.update(batch_size=1, num_workers=0, persistent_workers=False)
    cfg.update(work_dir=str(work_dir), val_dataloader=None, val_cfg=None,
               val_evaluator=None, test_dataloader=None, test_cfg=None,
               test_evaluator=None, randomness=dict(seed=0))
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
    cfg.default_hooks.checkpoint = None
    if precise_bn:
        cfg.custom_hooks = cfg.custom_hooks + [
            dict(type='PreciseBNHook', num_batches=3, log_interval=1)]
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def input_stats_by_hand(model, batches, num_batches):
    """Each BN's per-channel input mean and unbiased variance, averaged
    over the first ``num_batches`` batches, captured with forward
    pre-hooks on a train-mode forward."""
    bns = {name: m for name, m in model.named_modules()
           if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    sums = {name: [0, 0] for name in bns}

    def capture(name):
        def hook(module, args):
            mean, var = channel_stats(args[0])
            sums[name][0] = sums[name][0] + mean
            sums[name][1] = sums[name][1] + var
        return hook

    handles = [bn.register_forward_pre_hook(capture(name))
               for name, bn in bns.items()]
    model.train()
    with torch.no_grad():
        for index, batch in enumerate(batches):
            if index == num_batches:
                break
            model(**model.data_preprocessor(batch, True), mode='tensor')
    for handle in handles:
        handle.remove()
    return {name: (m / num_batches, v / num_batches)
            for name, (m, v) in sums.items()}


def test_runner_training_ends_with_the_precise_statistics(tmp_path):
    from mmvid.data_preparation import generate_synthetic_dataset
    root = tmp_path / 'syn'
    generate_synthetic_dataset(
        str(root), num_classes=2, videos_per_class_train=2,
        videos_per_class_val=0, num_frames=8, size=(32, 24),
        codec='MJPG', write_rawframes=False, progress=False)
    with_hook = train_demo(root, tmp_path / 'with', True)
    without = train_demo(root, tmp_path / 'without', False)
    a = with_hook.model.state_dict()
    b = without.model.state_dict()
    stats = [k for k in a if k.endswith(('running_mean', 'running_var'))]
    assert len(stats) > 20
    # the hook changes the statistics only: same weights, same stream
    for key in a:
        if key not in stats:
            assert torch.equal(a[key], b[key]), key
    # the precise ones: the last epoch's first 3 batches through the final
    # weights (the weights are the same in both runs)
    expected = input_stats_by_hand(without.model,
                                   without.train_dataloader, 3)
    for name, (mean, var) in expected.items():
        assert not torch.allclose(a[name + '.running_var'],
                                  b[name + '.running_var']), name
        torch.testing.assert_close(a[name + '.running_mean'], mean.float(),
                                   rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(a[name + '.running_var'], var.float(),
                                   rtol=1e-4, atol=1e-5)
    log = open(glob.glob(str(tmp_path / 'with' / '*' / '*.log'))[0]).read()
    assert 'PreciseBN: the training loader gave 3 batches' not in log
    assert 'PreciseBN: done, 3 batches' in log

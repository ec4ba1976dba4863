"""Tests for mmvid.checkpoint and the allow-list set by mmvid.engine."""
import copy
import os
import os.path as osp
import subprocess
import uuid
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

import mmvid.engine  # noqa: F401  (registers the allow-list)
from mmvid.checkpoint import (SAFE_GLOBALS, TORCHVISION_URLS,
                                    CheckpointError, get_state_dict,
                                    load_checkpoint, load_file,
                                    load_state_dict, register_safe_globals,
                                    resolve_pretrained)


class TinyNet(nn.Module):
    """A conv, a batch norm and a linear layer."""

    def __init__(self, classes: int = 3):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(2, classes)


def random_state(model: nn.Module) -> 'OrderedDict[str, torch.Tensor]':
    """The model's state dict with every float tensor randomised."""
    return OrderedDict(
        (key,
         torch.randn_like(value) if value.is_floating_point() else value + 5)
        for key, value in model.state_dict().items())


def assert_same_tensors(actual, expected):
    assert list(actual) == list(expected)
    for key in expected:
        assert torch.equal(actual[key], expected[key]), key


def mmaction2_0x_checkpoint(model: nn.Module) -> dict:
    """A dict shaped like mmcv 1.x's save_checkpoint output."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for param in model.parameters():
        param.grad = torch.ones_like(param)
    optimizer.step()
    return {
        'meta': {
            'mmcv_version': '1.3.1',
            'time': 'Mon Apr  5 12:00:00 2021',
            'epoch': 10,
            'iter': 1000,
            'seed': np.int64(0),
            'config': 'model = dict(...)',
            'hook_msgs': {
                'best_score': np.float64(0.7316),
                'best_ckpt': 'work_dirs/best_top1_acc_epoch_10.pth',
                'last_ckpt': 'work_dirs/epoch_10.pth',
            },
        },
        'state_dict': OrderedDict(model.state_dict()),
        'optimizer': optimizer.state_dict(),
    }


# ---------------------------------------------------------------------------
# Loading files
# ---------------------------------------------------------------------------
def test_bare_state_dict_round_trip(tmp_path):
    state = random_state(TinyNet())
    path = str(tmp_path / 'bare.pth')
    torch.save(state, path)

    model = TinyNet()
    checkpoint = load_checkpoint(model, path, strict=True)

    assert_same_tensors(checkpoint, state)
    assert_same_tensors(model.state_dict(), state)


def test_mmaction2_0x_checkpoint_with_numpy_meta(tmp_path):
    source = TinyNet()
    saved = mmaction2_0x_checkpoint(source)
    path = str(tmp_path / 'i3d_0x.pth')
    torch.save(saved, path)

    model = TinyNet()
    checkpoint = load_checkpoint(model, path, strict=True)

    best = checkpoint['meta']['hook_msgs']['best_score']
    assert isinstance(best, np.float64) and best == np.float64(0.7316)
    assert checkpoint['meta']['seed'] == 0
    momentum = checkpoint['optimizer']['state'][0]['momentum_buffer']
    assert torch.equal(momentum,
                       saved['optimizer']['state'][0]['momentum_buffer'])
    assert checkpoint['optimizer']['param_groups'][0]['lr'] == 0.1
    assert_same_tensors(model.state_dict(), source.state_dict())


def test_legacy_non_zip_file(tmp_path):
    saved = mmaction2_0x_checkpoint(TinyNet())
    path = str(tmp_path / 'legacy.pth')
    torch.save(saved, path, _use_new_zipfile_serialization=False)

    checkpoint = load_file(path)

    assert checkpoint['meta']['hook_msgs']['best_score'] == 0.7316
    assert_same_tensors(checkpoint['state_dict'], saved['state_dict'])


def test_numpy_1x_global_names(tmp_path):
    """Files written under numpy 1.x name ``numpy.core.multiarray``."""
    path = tmp_path / 'numpy1.pth'
    torch.save(
        {'meta': {
            'best_score': np.float64(0.5),
            'curve': np.arange(3.0)
        }},
        str(path),
        _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    if b'numpy._core.multiarray' in data:  # written by numpy 2
        data = data.replace(b'numpy._core.multiarray',
                            b'numpy.core.multiarray')
        path.write_bytes(data)
    assert b'numpy.core.multiarray' in data

    meta = load_file(str(path))['meta']

    assert meta['best_score'] == 0.5
    np.testing.assert_array_equal(meta['curve'], [0.0, 1.0, 2.0])


def test_data_parallel_prefix_is_stripped(tmp_path):
    state = random_state(TinyNet())
    path = str(tmp_path / 'ddp.pth')
    torch.save(
        {
            'state_dict':
            OrderedDict(
                ('module.' + key, value) for key, value in state.items())
        }, path)

    model = TinyNet()
    load_checkpoint(model, path, strict=True)

    assert_same_tensors(model.state_dict(), state)


def test_pyslowfast_model_state(tmp_path):
    state = random_state(TinyNet())
    path = str(tmp_path / 'slowfast.pyth')
    torch.save(
        {
            'epoch': 196,
            'model_state': state,
            'optimizer_state': {},
            'cfg': 'TRAIN:\n  ENABLE: True\n'
        }, path)

    model = TinyNet()
    checkpoint = load_checkpoint(model, path, strict=True)

    assert checkpoint['epoch'] == 196
    assert_same_tensors(model.state_dict(), state)


def test_get_state_dict_model_key_and_error():
    state = random_state(TinyNet())
    assert_same_tensors(get_state_dict({'model': state}), state)
    with pytest.raises(CheckpointError) as info:
        get_state_dict({'meta': {}, 'weights': [1, 2]}, 'odd.pth')
    message = str(info.value)
    assert 'odd.pth' in message
    assert "'meta'" in message and "'weights'" in message


class Exploit:
    """Runs a shell command when unpickled without restrictions."""

    def __init__(self, function, command: str):
        self.function = function
        self.command = command

    def __reduce__(self):
        return (self.function, (self.command, ))


@pytest.mark.parametrize('function, name', [(os.system, 'system'),
                                            (subprocess.call, 'call')])
@pytest.mark.parametrize('zipfile', [True, False])
def test_tampered_pickle_is_refused(tmp_path, function, name, zipfile):
    marker = tmp_path / 'MARKER'
    command = f'echo pwned > {marker}'
    if function is subprocess.call:
        command = ['sh', '-c', command]
    path = str(tmp_path / 'evil.pth')
    torch.save({
        'state_dict': {},
        'meta': Exploit(function, command)
    },
               path,
               _use_new_zipfile_serialization=zipfile)

    with pytest.raises(CheckpointError) as info:
        load_file(path)

    message = str(info.value)
    assert path in message and name in message
    assert 'allow-list' in message and 'trust' in message
    assert 'weights_only=False' not in message  # never advised
    assert '\n' not in message
    assert not marker.exists()


def test_restricted_getattr_refuses_other_attributes(tmp_path):
    """The getattr stand-in for HistoryBuffer does not reach anything else."""

    class GetattrExploit:

        def __reduce__(self):
            return (getattr, (np.ndarray, 'tofile'))

    path = str(tmp_path / 'getattr.pth')
    torch.save({'x': GetattrExploit()}, path)

    with pytest.raises(CheckpointError) as info:
        load_file(path)
    assert 'tofile' in str(info.value) and path in str(info.value)


@pytest.mark.parametrize('zipfile', [True, False])
def test_truncated_file(tmp_path, zipfile):
    good = tmp_path / 'good.pth'
    torch.save(mmaction2_0x_checkpoint(TinyNet()),
               str(good),
               _use_new_zipfile_serialization=zipfile)
    data = good.read_bytes()
    bad = tmp_path / 'truncated.pth'
    bad.write_bytes(data[:len(data) // 2])

    with pytest.raises(CheckpointError) as info:
        load_file(str(bad))
    assert str(bad) in str(info.value)
    assert 'truncated' in str(info.value)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / 'notes.pth'
    path.write_text('just some text\n')
    with pytest.raises(CheckpointError, match='not a torch checkpoint'):
        load_file(str(path))


def test_missing_file(tmp_path):
    path = str(tmp_path / 'absent.pth')
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        load_file(path)


# ---------------------------------------------------------------------------
# load_state_dict
# ---------------------------------------------------------------------------
def test_strict_load_of_matching_state():
    state = random_state(TinyNet())
    model = TinyNet()
    missing, unexpected = load_state_dict(model, state, strict=True)
    assert missing == [] and unexpected == []
    assert_same_tensors(model.state_dict(), state)


def test_strict_load_with_missing_key_raises_and_keeps_model():
    state = random_state(TinyNet())
    del state['fc.bias']
    model = TinyNet()
    before = OrderedDict((k, v.clone()) for k, v in model.state_dict().items())

    with pytest.raises(CheckpointError, match='fc.bias'):
        load_state_dict(model, state, strict=True, source='part.pth')
    assert_same_tensors(model.state_dict(), before)


def test_missing_num_batches_tracked_counts_as_missing():
    state = random_state(TinyNet())
    del state['bn.num_batches_tracked']
    missing, unexpected = load_state_dict(TinyNet(), state)
    assert missing == ['bn.num_batches_tracked'] and unexpected == []


def test_unexpected_key_is_returned_when_not_strict():
    state = random_state(TinyNet())
    state['head.extra'] = torch.zeros(2)
    model = TinyNet()

    missing, unexpected = load_state_dict(model, state, strict=False)

    assert missing == [] and unexpected == ['head.extra']
    assert torch.equal(model.fc.weight, state['fc.weight'])


def test_shape_mismatch_is_never_skipped():
    state = random_state(TinyNet(classes=400))
    model = TinyNet(classes=3)

    with pytest.raises(CheckpointError) as info:
        load_state_dict(model, state, strict=False, source='k400.pth')

    message = str(info.value)
    assert 'k400.pth' in message
    assert 'fc.weight: checkpoint shape [400, 2] vs model shape [3, 2]' \
        in message
    assert 'fc.bias: checkpoint shape [400] vs model shape [3]' in message


def test_many_shape_mismatches_are_abbreviated():
    model = nn.Sequential(*[nn.Linear(2, 2) for _ in range(8)])
    state = OrderedDict((key, torch.zeros(3, *value.shape[1:]))
                        for key, value in model.state_dict().items())
    with pytest.raises(CheckpointError) as info:
        load_state_dict(model, state)
    assert '16 tensor(s)' in str(info.value)
    assert '... and 6 more' in str(info.value)


def test_load_summary_is_logged(capsys):
    state = random_state(TinyNet())
    del state['conv.bias']
    state['extra'] = torch.zeros(1)
    load_state_dict(TinyNet(), state, logger=None, source='x.pth')
    out = capsys.readouterr().out
    assert 'loaded 8/9 tensors from x.pth' in out
    assert 'missing keys (1): conv.bias' in out
    assert 'unexpected keys (1): extra' in out


# ---------------------------------------------------------------------------
# The allow-list and mmengine's resume
# ---------------------------------------------------------------------------
def test_register_safe_globals_is_idempotent():
    register_safe_globals()
    registered = torch.serialization.get_safe_globals()
    register_safe_globals()
    again = torch.serialization.get_safe_globals()
    assert len(again) == len(registered) and set(again) == set(registered)
    for entry in SAFE_GLOBALS:
        assert entry in registered


def make_runner(work_dir: str, max_epochs: int, **kwargs):
    """A tiny mmengine Runner: one Linear layer, 8 samples, 2 iters/epoch."""
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class ToyModel(BaseModel):

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, inputs, labels=None, mode='tensor'):
            outputs = self.fc(inputs)
            if mode == 'loss':
                return {'loss': ((outputs - labels)**2).mean()}
            return outputs

    generator = torch.Generator().manual_seed(0)
    dataset = [
        dict(inputs=torch.randn(2, generator=generator),
             labels=torch.randn(1, generator=generator)) for _ in range(8)
    ]
    return Runner(
        model=ToyModel(),
        work_dir=work_dir,
        experiment_name=f'ckpt_test_{uuid.uuid4().hex}',
        train_dataloader=dict(dataset=dataset,
                              sampler=dict(type='DefaultSampler',
                                           shuffle=False),
                              batch_size=4,
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR',
                             milestones=[1],
                             by_epoch=True,
                             begin=0,
                             end=2),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        default_scope='mmengine',
        **kwargs)


@pytest.fixture(scope='module')
def trained_one_epoch(tmp_path_factory):
    """A work_dir in which a Runner trained 1 of 2 epochs."""
    work_dir = str(tmp_path_factory.mktemp('runner'))
    make_runner(work_dir, max_epochs=1).train()
    return work_dir


def test_mmengine_checkpoint_loads_with_load_file(trained_one_epoch):
    checkpoint = load_file(osp.join(trained_one_epoch, 'epoch_1.pth'))
    assert checkpoint['meta']['epoch'] == 1
    history = checkpoint['message_hub']['log_scalars']['train/loss']
    assert history.current() > 0 and history.mean() > 0
    assert set(get_state_dict(checkpoint)) == {'fc.weight', 'fc.bias'}


def test_torch_refuses_mmengine_checkpoint_without_allow_list(
        trained_one_epoch):
    """What mmvid.engine fixes: torch's default load refuses the file."""
    path = osp.join(trained_one_epoch, 'epoch_1.pth')
    registered = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        with pytest.raises(Exception, match='HistoryBuffer|numpy'):
            torch.load(path)
    finally:
        torch.serialization.add_safe_globals(registered)
    assert torch.load(path)['meta']['epoch'] == 1


def test_mmengine_runner_resume(trained_one_epoch):
    from mmengine.hooks import Hook

    # Only the allow-list registered by ``import mmvid.engine`` lets
    # mmengine's own torch.load (weights_only by default) read the file.
    assert set(SAFE_GLOBALS) <= set(torch.serialization.get_safe_globals())
    saved = load_file(osp.join(trained_one_epoch, 'epoch_1.pth'))
    seen = {}

    class Capture(Hook):
        """Records the state the Runner resumed to, before training on."""

        def before_train(self, runner):
            seen['epoch'] = runner.epoch
            seen['iter'] = runner.iter
            seen['optimizer'] = copy.deepcopy(
                runner.optim_wrapper.state_dict())
            seen['last_step'] = runner.param_schedulers[0].last_step
            seen['lr'] = runner.optim_wrapper.get_lr()['lr'][0]
            seen['weight'] = runner.model.fc.weight.detach().clone()

    runner = make_runner(trained_one_epoch,
                         max_epochs=2,
                         resume=True,
                         custom_hooks=[Capture()])
    runner.train()

    assert seen['epoch'] == 1 and seen['iter'] == 2
    assert torch.equal(seen['weight'], saved['state_dict']['fc.weight'])
    momentum = seen['optimizer']['state'][0]['momentum_buffer']
    assert torch.equal(momentum,
                       saved['optimizer']['state'][0]['momentum_buffer'])
    assert seen['last_step'] == saved['param_schedulers'][0]['last_step'] == 1
    assert seen['lr'] == pytest.approx(0.01)  # MultiStepLR stepped at 1
    assert runner.epoch == 2 and runner.iter == 4
    assert osp.exists(osp.join(trained_one_epoch, 'epoch_2.pth'))


# ---------------------------------------------------------------------------
# resolve_pretrained
# ---------------------------------------------------------------------------
@pytest.fixture
def isolated_dirs(tmp_path, monkeypatch):
    """No checkpoints/ folder, env var or torch hub with weights."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv('MMVID_CHECKPOINTS', raising=False)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    return tmp_path


def test_resolve_missing_torchvision_weights(isolated_dirs):
    with pytest.raises(FileNotFoundError) as info:
        resolve_pretrained('torchvision://resnet50')
    message = str(info.value)
    assert 'https://download.pytorch.org/models/resnet50-0676ba61.pth' \
        in message
    assert 'never downloads' in message
    assert str(isolated_dirs / 'checkpoints') in message


def test_resolve_torchvision_weights_from_env_folder(isolated_dirs,
                                                     monkeypatch):
    folder = isolated_dirs / 'weights'
    folder.mkdir()
    target = folder / 'resnet50-19c8e357.pth'
    target.write_bytes(b'')
    monkeypatch.setenv('MMVID_CHECKPOINTS', str(folder))
    assert resolve_pretrained('torchvision://resnet50') == str(target)


def test_resolve_torchvision_weights_from_checkpoints_folder(isolated_dirs):
    (isolated_dirs / 'checkpoints').mkdir()
    target = isolated_dirs / 'checkpoints' / 'resnet18-f37072fd.pth'
    target.write_bytes(b'')
    assert resolve_pretrained('torchvision://resnet18') == str(target)


def test_resolve_url(isolated_dirs):
    url = 'https://example.com/models/i3d_r50_k400.pth'
    with pytest.raises(FileNotFoundError) as info:
        resolve_pretrained(url)
    assert url in str(info.value) and 'i3d_r50_k400.pth' in str(info.value)

    (isolated_dirs / 'checkpoints').mkdir()
    target = isolated_dirs / 'checkpoints' / 'i3d_r50_k400.pth'
    target.write_bytes(b'')
    assert resolve_pretrained(url) == str(target)


def test_resolve_local_path(isolated_dirs):
    target = isolated_dirs / 'mine.pth'
    target.write_bytes(b'')
    assert resolve_pretrained(str(target)) == str(target)
    with pytest.raises(FileNotFoundError, match='nothere.pth'):
        resolve_pretrained(str(isolated_dirs / 'nothere.pth'))
    with pytest.raises(ValueError, match='scheme'):
        resolve_pretrained('open-mmlab://resnet50_v1c')


def test_torchvision_urls_are_complete():
    assert set(TORCHVISION_URLS) == {
        'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152'
    }
    for urls in TORCHVISION_URLS.values():
        assert all(
            url.startswith('https://download.pytorch.org/models/')
            for url in urls)

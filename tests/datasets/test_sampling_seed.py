"""Per-sample generators seeded from (seed, epoch, idx), ``EpochSeedSampler``
and ``limit_worker_threads``: augmentation draws do not depend on the number
of loader workers and change every epoch."""
from functools import partial

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import DefaultSampler, RepeatDataset, pseudo_collate
from torch.utils.data import DataLoader

from mmvid.datasets.rawframe_dataset import RawframeDataset
from mmvid.datasets.samplers import EpochSeedSampler, limit_worker_threads
from mmvid.datasets.video_dataset import VideoDataset
from mmvid.registry import DATA_SAMPLERS, FUNCTIONS

N = 5


def draw(results):
    """A stand-in augmentation: three draws from the sample's generator."""
    return dict(idx=results['sample_idx'], draws=results['rng'].random(3))


def threads(results):
    """The thread counts of the process that loads the sample."""
    return dict(cv2=cv2.getNumThreads(), torch=torch.get_num_threads())


def expected_draws(seed, epoch, idx):
    return np.random.default_rng([seed, epoch, idx]).random(3)


@pytest.fixture
def ann(tmp_path):
    path = tmp_path / 'list.txt'
    path.write_text(''.join(f'v{i}.mp4 {i}\n' for i in range(N)))
    return str(path)


def test_draws_depend_only_on_seed_epoch_and_index(ann):
    ds = VideoDataset(ann, [draw], seed=7)
    for epoch in (0, 3):
        for idx in range(N):
            out = ds[idx + epoch * N]
            assert out['idx'] == idx
            np.testing.assert_array_equal(out['draws'],
                                          expected_draws(7, epoch, idx))
    np.testing.assert_array_equal(ds[2]['draws'], ds[2]['draws'])
    assert not np.array_equal(ds[2]['draws'], ds[2 + N]['draws'])
    assert not np.array_equal(ds[2]['draws'], ds[3]['draws'])
    # the same seed gives the same draws in another dataset object
    np.testing.assert_array_equal(
        VideoDataset(ann, [draw], seed=7)[4 + 2 * N]['draws'],
        expected_draws(7, 2, 4))


def test_seed_none_comes_from_numpys_global_state(ann):
    np.random.seed(123)
    first = VideoDataset(ann, [draw])
    np.random.seed(123)
    second = VideoDataset(ann, [draw])
    assert first.seed == second.seed
    np.testing.assert_array_equal(first[1]['draws'], second[1]['draws'])
    np.random.seed(124)
    assert VideoDataset(ann, [draw]).seed != first.seed


def test_negative_and_out_of_range_indices(ann):
    ds = VideoDataset(ann, [draw], seed=1)
    np.testing.assert_array_equal(ds[-1]['draws'], expected_draws(1, 0, 4))
    with pytest.raises(IndexError,
                       match='index -6 is out of range for VideoDataset of '
                       'length 5'):
        ds[-6]


def test_rawframe_dataset_uses_the_same_generators(tmp_path):
    path = tmp_path / 'frames.txt'
    path.write_text('a 10 0\nb 10 1\n')
    ds = RawframeDataset(str(path), [draw], seed=3)
    np.testing.assert_array_equal(ds[1 + 2 * 4]['draws'],
                                  expected_draws(3, 4, 1))


def test_epoch_seed_sampler_offsets_the_default_order(ann):
    ds = VideoDataset(ann, [draw], seed=0)
    sampler = EpochSeedSampler(ds, shuffle=False, seed=0)
    assert list(sampler) == [0, 1, 2, 3, 4]
    sampler.set_epoch(2)
    assert list(sampler) == [10, 11, 12, 13, 14]
    shuffled = EpochSeedSampler(ds, shuffle=True, seed=42)
    reference = DefaultSampler(ds, shuffle=True, seed=42)
    for epoch in (0, 1):
        shuffled.set_epoch(epoch)
        reference.set_epoch(epoch)
        assert list(shuffled) == [i + epoch * N for i in reference]
    assert len(shuffled) == N
    built = DATA_SAMPLERS.build(dict(type='EpochSeedSampler', shuffle=False),
                                default_args=dict(dataset=ds, seed=0))
    assert isinstance(built, EpochSeedSampler)


def test_epoch_seed_sampler_refuses_datasets_that_drop_the_epoch(ann):
    repeated = RepeatDataset(VideoDataset(ann, [draw], seed=0), times=2)
    with pytest.raises(TypeError, match='EpochSeedSampler needs a dataset '
                       'that decodes .* got RepeatDataset. Use '
                       'DefaultSampler for it'):
        EpochSeedSampler(repeated, seed=0)


def run_epochs(ds, num_workers, epochs=2):
    sampler = EpochSeedSampler(ds, shuffle=True, seed=11)
    loader = DataLoader(ds, batch_size=2, sampler=sampler,
                        num_workers=num_workers, collate_fn=pseudo_collate,
                        persistent_workers=False)
    draws = {}
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for batch in loader:
            for idx, values in zip(batch['idx'], batch['draws']):
                draws[(epoch, idx)] = values
    return draws


def test_draws_are_the_same_with_0_or_2_workers(ann):
    ds = VideoDataset(ann, [draw], seed=5)
    in_process = run_epochs(ds, num_workers=0)
    in_workers = run_epochs(ds, num_workers=2)
    assert sorted(in_process) == [(e, i) for e in range(2) for i in range(N)]
    assert sorted(in_workers) == sorted(in_process)
    for (epoch, idx), values in in_process.items():
        np.testing.assert_array_equal(in_workers[(epoch, idx)], values)
        np.testing.assert_array_equal(values, expected_draws(5, epoch, idx))
        assert not np.array_equal(values, in_process[(1 - epoch, idx)])


def test_limit_worker_threads_in_process():
    before = (cv2.getNumThreads(), torch.get_num_threads(),
              cv2.ocl.useOpenCL())
    try:
        cv2.ocl.setUseOpenCL(True)
        FUNCTIONS.get('limit_worker_threads')(0)
        assert (cv2.getNumThreads(), torch.get_num_threads()) == (1, 1)
        assert not cv2.ocl.useOpenCL()
        limit_worker_threads(3, num_threads=2)
        assert (cv2.getNumThreads(), torch.get_num_threads()) == (2, 2)
    finally:
        cv2.setNumThreads(before[0])
        torch.set_num_threads(before[1])
        cv2.ocl.setUseOpenCL(before[2])
    with pytest.raises(ValueError,
                       match='num_threads must be an int >= 1, got 0'):
        limit_worker_threads(0, num_threads=0)


def test_limit_worker_threads_in_loader_workers(ann):
    ds = VideoDataset(ann, [threads], seed=0)
    for init_fn, expected in [(limit_worker_threads, 1),
                              (partial(limit_worker_threads, num_threads=3),
                               3)]:
        loader = DataLoader(ds, batch_size=N, num_workers=2,
                            worker_init_fn=init_fn,
                            collate_fn=pseudo_collate)
        batch, = list(loader)
        assert batch == dict(cv2=[expected] * N, torch=[expected] * N)

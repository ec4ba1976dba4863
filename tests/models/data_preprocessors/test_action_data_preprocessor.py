"""ActionDataPreprocessor: batching and normalisation."""
import pytest
import torch

from mmvid.models import ActionDataPreprocessor
from mmvid.structures import ActionDataSample

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def test_normalises_per_channel():
    pre = ActionDataPreprocessor(mean=MEAN, std=STD)
    clips = [torch.randint(0, 256, (2, 3, 4, 5, 5), dtype=torch.uint8)
             for _ in range(3)]
    samples = [ActionDataSample().set_gt_label(i) for i in range(3)]
    out = pre(dict(inputs=clips, data_samples=samples))
    assert out['inputs'].shape == (3, 2, 3, 4, 5, 5)
    assert out['inputs'].dtype == torch.float32
    for c in range(3):
        expected = (torch.stack(clips)[:, :, c].float() - MEAN[c]) / STD[c]
        torch.testing.assert_close(out['inputs'][:, :, c], expected)
    assert [s.gt_label.item() for s in out['data_samples']] == [0, 1, 2]


def test_to_rgb_and_2d_format():
    pre = ActionDataPreprocessor(mean=[1., 2., 3.], std=[1., 1., 1.],
                                 to_rgb=True, format_shape='NCHW')
    x = torch.arange(3.).view(1, 1, 3, 1, 1).expand(1, 1, 3, 2, 2)
    out = pre(dict(inputs=x))['inputs']
    torch.testing.assert_close(out[0, 0, :, 0, 0], torch.tensor([2. - 1., 1. - 2., 0. - 3.]))


def test_no_normalisation_casts_to_float():
    pre = ActionDataPreprocessor()
    x = torch.full((1, 1, 3, 2, 2, 2), 7, dtype=torch.uint8)
    out = pre(dict(inputs=x))['inputs']
    assert out.dtype == torch.float32 and torch.all(out == 7)


def test_errors():
    pre = ActionDataPreprocessor()
    with pytest.raises(ValueError, match='cannot batch samples of different '
                       'shapes'):
        pre(dict(inputs=[torch.zeros(1, 3, 2, 4, 4), torch.zeros(1, 3, 2, 5,
                                                                 5)]))
    with pytest.raises(ValueError, match='NCTHW expects 6-D'):
        pre(dict(inputs=torch.zeros(1, 3, 4, 4)))
    with pytest.raises(ValueError, match='give both mean and std'):
        ActionDataPreprocessor(mean=MEAN)
    with pytest.raises(ValueError, match='format_shape must be one of'):
        ActionDataPreprocessor(format_shape='NTCHW')


class RecordingTensor(torch.Tensor):
    """A tensor that records the keyword arguments of its ``.to`` calls."""
    calls = []

    def to(self, *args, **kwargs):
        RecordingTensor.calls.append(kwargs)
        return super().to(*args, **kwargs).as_subclass(torch.Tensor)


@pytest.mark.parametrize('kwargs, expected', [({}, True),
                                              ({'non_blocking': False},
                                               False)])
def test_uint8_samples_are_moved_without_blocking(kwargs, expected):
    """The loader's uint8 samples are moved to the device as they are
    (uint8: the float work happens after the copy) with non_blocking=True
    by default (pinned memory then overlaps the copy with compute)."""
    RecordingTensor.calls.clear()
    pre = ActionDataPreprocessor(mean=MEAN, std=STD, **kwargs)
    clips = [torch.zeros((1, 3, 2, 4, 4), dtype=torch.uint8).as_subclass(
        RecordingTensor) for _ in range(2)]
    out = pre(dict(inputs=clips))['inputs']
    assert RecordingTensor.calls == [
        {'non_blocking': expected}, {'non_blocking': expected}]
    assert out.dtype == torch.float32 and out.shape == (2, 1, 3, 2, 4, 4)

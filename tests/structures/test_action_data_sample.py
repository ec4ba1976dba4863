"""ActionDataSample label formatting."""
import numpy as np
import pytest
import torch

from mmvid.structures import ActionDataSample


def test_labels_become_1d_tensors():
    sample = ActionDataSample()
    sample.gt_label = 3
    assert sample.gt_label.tolist() == [3]
    assert sample.gt_label.dtype == torch.long
    sample.set_gt_label(np.array([1, 4]))
    assert sample.gt_label.tolist() == [1, 4]
    sample.set_gt_label(torch.tensor([0., 1., 1.]))
    assert sample.gt_label.dtype == torch.float32
    sample.set_pred_score(torch.tensor([0.2, 0.8]))
    sample.set_pred_label(torch.tensor(1))
    assert sample.pred_label.tolist() == [1]
    with pytest.raises(TypeError, match='a label must be an int'):
        sample.set_gt_label('walk')
    with pytest.raises(TypeError, match='pred_score must be a 1-D tensor'):
        sample.set_pred_score(torch.zeros(2, 2))

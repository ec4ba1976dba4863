"""CrossEntropyLoss and BCELossWithLogits against explicit formulas."""
import pytest
import torch
import torch.nn.functional as F

from mmvid.models import BCELossWithLogits, CrossEntropyLoss


def test_hard_labels_with_weight_and_smoothing():
    scores = torch.randn(5, 4)
    labels = torch.tensor([0, 1, 3, 3, 2])
    log_p = scores.log_softmax(1)
    plain = -log_p[torch.arange(5), labels].mean()
    torch.testing.assert_close(CrossEntropyLoss()(scores, labels), plain)
    torch.testing.assert_close(
        CrossEntropyLoss(loss_weight=2.5)(scores, labels), 2.5 * plain)
    w = torch.tensor([1., 2., 3., 4.])
    weighted = -(w[labels] * log_p[torch.arange(5), labels]).sum() / \
        w[labels].sum()
    torch.testing.assert_close(
        CrossEntropyLoss(class_weight=w.tolist())(scores, labels), weighted)
    eps = 0.2
    target = (1 - eps) * F.one_hot(labels, 4) + eps / 4
    smoothed = -(target * log_p).sum(1).mean()
    torch.testing.assert_close(
        CrossEntropyLoss(label_smoothing=eps)(scores, labels), smoothed)


def test_soft_labels():
    scores = torch.randn(3, 4)
    target = torch.softmax(torch.randn(3, 4), 1)
    expected = -(target * scores.log_softmax(1)).sum(1).mean()
    torch.testing.assert_close(CrossEntropyLoss()(scores, target), expected)
    torch.testing.assert_close(
        CrossEntropyLoss(loss_weight=0.25)(scores, target), 0.25 * expected)
    w = torch.tensor([1., 0., 2., 1.])
    expected = -(target * w * scores.log_softmax(1)).sum() / (target * w).sum()
    torch.testing.assert_close(
        CrossEntropyLoss(class_weight=w.tolist())(scores, target), expected)


def test_errors():
    with pytest.raises(ValueError, match='class_weight has 3 entries but the '
                       'scores have 4 classes'):
        CrossEntropyLoss(class_weight=[1, 1, 1])(torch.randn(2, 4),
                                                  torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='label_smoothing must be in'):
        CrossEntropyLoss(label_smoothing=1.0)
    with pytest.raises(ValueError, match='needs multi-hot targets'):
        BCELossWithLogits()(torch.randn(2, 4), torch.tensor([0, 1]))


def test_bce():
    scores = torch.randn(2, 3)
    target = torch.tensor([[1., 0., 1.], [0., 0., 1.]])
    p = scores.sigmoid()
    expected = -(target * p.log() + (1 - target) * (1 - p).log()).mean()
    torch.testing.assert_close(BCELossWithLogits()(scores, target), expected)

"""I3DHead and BaseHead: forward, view averaging, loss, prediction."""
import pytest
import torch
import torch.nn.functional as F

from mmvid.models import I3DHead, average_clip
from mmvid.structures import ActionDataSample


def samples(labels):
    return [ActionDataSample().set_gt_label(label) for label in labels]


def test_forward_pools_and_classifies():
    head = I3DHead(num_classes=5, in_channels=8, dropout_ratio=0.0)
    head.init_weights()
    x = torch.randn(3, 8, 2, 3, 3)
    expected = F.linear(x.mean((2, 3, 4)), head.fc_cls.weight,
                        head.fc_cls.bias)
    torch.testing.assert_close(head(x), expected)
    assert torch.all(head.fc_cls.bias == 0)
    big = I3DHead(num_classes=400, in_channels=2048, init_std=0.01)
    big.init_weights()
    assert abs(big.fc_cls.weight.std().item() - 0.01) < 5e-4


def test_avg_pool_is_written_the_1x_way_with_the_same_state_and_output():
    """``AdaptiveAvgPool3d((1, 1, 1))`` as in mmaction2 1.x: no parameters
    or buffers, and the same logits as the ``AdaptiveAvgPool3d(1)`` it
    replaces."""
    head = I3DHead(num_classes=5, in_channels=8, dropout_ratio=0.0)
    assert head.avg_pool.output_size == (1, 1, 1)
    assert list(head.state_dict()) == ['fc_cls.weight', 'fc_cls.bias']
    x = torch.randn(2, 8, 3, 4, 5)
    old = I3DHead(num_classes=5, in_channels=8, dropout_ratio=0.0)
    old.avg_pool = torch.nn.AdaptiveAvgPool3d(1)
    old.load_state_dict(head.state_dict())
    torch.testing.assert_close(head(x), old(x), rtol=0, atol=0)
    assert I3DHead(num_classes=5, in_channels=8,
                   spatial_type=None).avg_pool is None


def test_average_clip_modes():
    scores = torch.randn(6, 4)  # 2 videos x 3 views
    per_video = scores.view(2, 3, 4)
    torch.testing.assert_close(
        average_clip(scores, 3, 'prob'), per_video.softmax(-1).mean(1))
    torch.testing.assert_close(average_clip(scores, 3, 'score'),
                               per_video.mean(1))
    torch.testing.assert_close(average_clip(scores, 3, None), per_video)
    with pytest.raises(ValueError, match='average_clips must be one of'):
        average_clip(scores, 3, 'mean')


def test_loss_with_top_k_and_label_smoothing():
    head = I3DHead(num_classes=6, in_channels=4, dropout_ratio=0.0,
                   label_smooth_eps=0.1, topk=(1, 5))
    feats = torch.randn(4, 4, 1, 2, 2)
    labels = torch.tensor([0, 3, 5, 1])
    losses = head.loss(feats, samples(labels.tolist()))
    logits = head(feats)
    target = 0.9 * F.one_hot(labels, 6).float() + 0.1 / 6
    expected = -(target * logits.log_softmax(1)).sum(1).mean()
    torch.testing.assert_close(losses['loss_cls'], expected)
    ranks = logits.argsort(1, descending=True)
    top1 = (ranks[:, 0] == labels).float().mean()
    top5 = (ranks[:, :5] == labels[:, None]).any(1).float().mean()
    torch.testing.assert_close(losses['top1_acc'], top1)
    torch.testing.assert_close(losses['top5_acc'], top5)


def test_loss_with_fewer_classes_than_the_largest_k():
    """The default top-5 on a 4-class head: top-1 logged, top-5 left out
    (it used to stop training: ``topk(5)`` of 4 scores)."""
    head = I3DHead(num_classes=4, in_channels=4, dropout_ratio=0.0)
    assert head.topk == (1, 5)
    feats = torch.randn(3, 4, 1, 2, 2)
    labels = torch.tensor([0, 3, 2])
    losses = head.loss(feats, samples(labels.tolist()))
    assert 'top5_acc' not in losses
    top1 = (head(feats).argmax(1) == labels).float().mean()
    torch.testing.assert_close(losses['top1_acc'], top1)


def test_multi_label_loss_uses_targets_as_given():
    head = I3DHead(num_classes=3, in_channels=4, dropout_ratio=0.0,
                   multi_class=True, loss_cls=dict(type='BCELossWithLogits'))
    feats = torch.randn(2, 4, 1, 1, 1)
    targets = torch.tensor([[1., 0., 1.], [0., 1., 0.]])
    losses = head.loss(feats, samples(targets))
    expected = F.binary_cross_entropy_with_logits(head(feats), targets)
    torch.testing.assert_close(losses['loss_cls'], expected)
    assert 'top1_acc' not in losses


def test_single_label_head_takes_soft_labels():
    """MixUp / CutMix soft labels ``[K]`` (rows summing to 1) reach the loss
    as probability targets, label smoothing on top; no top-k is logged."""
    head = I3DHead(num_classes=3, in_channels=4, dropout_ratio=0.0,
                   label_smooth_eps=0.2,
                   loss_cls=dict(type='CrossEntropyLoss', loss_weight=0.5))
    feats = torch.randn(2, 4, 1, 1, 1)
    soft = torch.tensor([[0.3, 0.7, 0.0], [0.0, 0.25, 0.75]])
    losses = head.loss(feats, samples(soft))
    target = 0.8 * soft + 0.2 / 3
    expected = -0.5 * (target * head(feats).log_softmax(1)).sum(1).mean()
    torch.testing.assert_close(losses['loss_cls'], expected)
    assert set(losses) == {'loss_cls'}


def test_single_label_head_rejects_multi_label_targets():
    head = I3DHead(num_classes=3, in_channels=4)
    with pytest.raises(ValueError, match='set multi_class=True'):
        head.loss(torch.randn(1, 4, 1, 1, 1),
                  samples([torch.tensor([1., 0., 1.])]))
    with pytest.raises(ValueError, match=r'no soft label \(float \[3\]'):
        head.loss(torch.randn(1, 4, 1, 1, 1),
                  samples([torch.tensor([0.5, 0.5])]))


def test_predict_sets_scores_and_labels():
    head = I3DHead(num_classes=4, in_channels=8, average_clips='prob').eval()
    feats = torch.randn(2 * 5, 8, 1, 2, 2)  # 2 videos x 5 views
    out = head.predict(feats, samples([1, 2]))
    expected = head(feats).view(2, 5, 4).softmax(-1).mean(1)
    for sample, score in zip(out, expected):
        torch.testing.assert_close(sample.pred_score, score)
        assert sample.pred_label.tolist() == [int(score.argmax())]
    out = head.predict(feats, samples([1, 2]), average_clips=None)
    assert out[0].pred_score.shape == (5, 4)


def test_argument_errors():
    with pytest.raises(ValueError, match='average_clips must be one of'):
        I3DHead(num_classes=2, in_channels=4, average_clips='max')
    with pytest.raises(ValueError, match="spatial_type must be 'avg' or None"):
        I3DHead(num_classes=2, in_channels=4, spatial_type='max')
    with pytest.raises(ValueError, match='dropout_ratio must be in'):
        I3DHead(num_classes=2, in_channels=4, dropout_ratio=1.0)
    with pytest.raises(ValueError, match='num_classes must be positive'):
        I3DHead(num_classes=0, in_channels=4)

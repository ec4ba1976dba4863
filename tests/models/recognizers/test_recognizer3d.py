"""Recognizer3D: loss / predict / tensor modes, views, chunking, training."""
import pytest
import torch
from mmengine.optim import OptimWrapper

from mmvid.registry import MODELS
from mmvid.structures import ActionDataSample
from tests.helpers import model_config

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def tiny_recognizer(**kwargs):
    cfg = dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3d', depth=18, base_channels=4,
                      conv1_kernel=(3, 7, 7)),
        cls_head=dict(type='I3DHead', num_classes=5, in_channels=32,
                      dropout_ratio=0.0, average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=MEAN,
                               std=STD))
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def batch(num_videos=2, views=3, frames=4, size=32):
    inputs = [torch.randint(0, 256, (views, 3, frames, size, size),
                            dtype=torch.uint8) for _ in range(num_videos)]
    samples = [ActionDataSample().set_gt_label(i % 5)
               for i in range(num_videos)]
    return dict(inputs=inputs, data_samples=samples)


def test_predict_averages_view_probabilities():
    model = tiny_recognizer().eval()
    data = batch()
    out = model.test_step(data)
    x = (torch.stack(data['inputs']).float() -
         torch.tensor(MEAN).view(3, 1, 1, 1)) / torch.tensor(STD).view(
             3, 1, 1, 1)
    with torch.no_grad():
        logits = model.cls_head(model.backbone(x.flatten(0, 1)))
    expected = logits.view(2, 3, 5).softmax(-1).mean(1)
    for sample, score in zip(out, expected):
        torch.testing.assert_close(sample.pred_score, score)
        assert sample.pred_label.item() == score.argmax().item()
        assert sample.gt_label.shape == (1, )


def test_test_cfg_average_clips_overrides_head():
    model = tiny_recognizer(test_cfg=dict(average_clips='score')).eval()
    data = batch()
    out = model.test_step(data)
    inputs = model.data_preprocessor(data)['inputs']
    with torch.no_grad():
        logits = model.cls_head(model.backbone(inputs.flatten(0, 1)))
    torch.testing.assert_close(out[1].pred_score, logits.view(2, 3, 5)[1]
                               .mean(0))


def test_max_testing_views_gives_the_same_scores():
    data = batch(num_videos=1, views=5)
    full = tiny_recognizer().eval()
    chunked = tiny_recognizer(test_cfg=dict(max_testing_views=2)).eval()
    chunked.load_state_dict(full.state_dict())
    torch.testing.assert_close(chunked.test_step(data)[0].pred_score,
                               full.test_step(data)[0].pred_score)


def test_feature_extraction_and_tensor_mode():
    model = tiny_recognizer(test_cfg=dict(feature_extraction=True)).eval()
    data = batch()
    out = model.test_step(data)
    inputs = model.data_preprocessor(data)['inputs']
    with torch.no_grad():
        feats = model(inputs, mode='tensor')
    assert feats.shape == (6, 32, 2, 1, 1)
    expected = feats.flatten(2).mean(-1).view(2, 3, 32).mean(1)
    torch.testing.assert_close(out[0].feature, expected[0])
    assert 'pred_score' not in out[0]


def test_with_features_stores_features_beside_the_scores():
    data = batch()
    plain = tiny_recognizer().eval()
    both = tiny_recognizer(test_cfg=dict(with_features=True)).eval()
    both.load_state_dict(plain.state_dict())
    features = tiny_recognizer(test_cfg=dict(feature_extraction=True)).eval()
    features.load_state_dict(plain.state_dict())
    out, scores = both.test_step(data), plain.test_step(data)
    feats = features.test_step(data)
    for got, score, feat in zip(out, scores, feats):
        torch.testing.assert_close(got.pred_score, score.pred_score)
        torch.testing.assert_close(got.feature, feat.feature)
        assert got.feature.shape == (32, )
    assert 'feature' not in scores[0]


def test_train_step_updates_weights_and_logs():
    model = tiny_recognizer().train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = model.cls_head.fc_cls.weight.detach().clone()
    log_vars = model.train_step(batch(views=1), optim)
    assert set(log_vars) == {'loss', 'loss_cls', 'top1_acc', 'top5_acc'}
    assert torch.isfinite(log_vars['loss'])
    assert not torch.equal(before, model.cls_head.fc_cls.weight)


def test_i3d_r50_from_config_runs_loss_and_predict():
    cfg = model_config('i3d_nl_embedded_gaussian_r50')
    model = MODELS.build(cfg.model)
    model.init_weights()
    data = dict(
        inputs=[torch.randint(0, 256, (1, 3, 8, 64, 64), dtype=torch.uint8)],
        data_samples=[ActionDataSample().set_gt_label(7)])
    model.train()
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    assert set(losses) == {'loss_cls', 'top1_acc', 'top5_acc'}
    assert torch.isfinite(losses['loss_cls']) and losses['loss_cls'] > 0
    model.eval()
    out = model.test_step(data)
    assert out[0].pred_score.shape == (400, )
    torch.testing.assert_close(out[0].pred_score.sum(), torch.tensor(1.))


def test_argument_and_input_errors():
    with pytest.raises(ValueError, match=r"unknown test_cfg keys \['views'\]"):
        tiny_recognizer(test_cfg=dict(views=3))
    with pytest.raises(ValueError, match='max_testing_views must be a positive'):
        tiny_recognizer(test_cfg=dict(max_testing_views=0))
    with pytest.raises(ValueError, match='takes no train_cfg keys'):
        tiny_recognizer(train_cfg=dict(blending=None))
    model = tiny_recognizer()
    with pytest.raises(ValueError, match='mode must be one of'):
        model(torch.zeros(1, 1, 3, 4, 32, 32), mode='infer')
    with pytest.raises(ValueError, match=r'expects inputs \[B, views, C, T, '
                       r'H, W\], got shape \(1, 3, 4, 32, 32\)'):
        model(torch.zeros(1, 3, 4, 32, 32))
    headless = MODELS.build(dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3d', depth=18, base_channels=4)))
    with pytest.raises(RuntimeError, match="mode 'loss' needs a cls_head"):
        headless(torch.zeros(1, 1, 3, 4, 32, 32), [], mode='loss')


def test_blending_must_match_the_head_classes():
    pre = dict(type='ActionDataPreprocessor', mean=MEAN, std=STD,
               blending=dict(type='CutmixBlending', num_classes=4))
    with pytest.raises(ValueError, match=r'model.data_preprocessor.blending.'
                       r'num_classes \(4\) differs from model.cls_head.'
                       r'num_classes \(5\)'):
        tiny_recognizer(data_preprocessor=pre)
    pre['blending']['num_classes'] = 5
    model = tiny_recognizer(data_preprocessor=pre)
    assert model.data_preprocessor.blending.num_classes == 5

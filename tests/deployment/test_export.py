"""Exporting the demo model to every format and running the files: the
same scores and top-1 as eager on every test video, fixed and dynamic
shapes, atomic writes, and the ImportError of a missing runtime."""
import os
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmvid.deployment import (FORMAT_BACKEND, FORMATS, ExportedRecognizer,
                              ScoresModel, check_export, default_clip_shape,
                              export_model, load_exported)
from mmvid.deployment import export as export_module
from mmvid.deployment.check import compare_scores

from .conftest import DEMO_CONFIG, EXPORT_SHAPE


def clip_of(shape, seed=3, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, shape, generator=gen,
                         dtype=torch.uint8).to(dtype)


def test_scores_model_is_test_step_per_view(demo):
    """What is exported equals Recognizer3D's own path: preprocessor, then
    backbone and head on every view."""
    model = demo['model']
    data = pseudo_collate([demo['dataset'][0]])
    with torch.no_grad():
        views = model.data_preprocessor(data)['inputs']  # [1, 6, 3, T, H, W]
        want = model.cls_head(model.extract_feat(views))
        got = ScoresModel(model)(torch.stack(data['inputs']).flatten(0, 1))
    assert views.shape[:2] == (1, 6)
    assert torch.allclose(got, want, atol=1e-5)


@pytest.mark.parametrize('fmt', tuple(FORMATS))
def test_every_test_video_as_eager(demo, exported, fmt):
    """The exported file in the model's place: the 6 views of each video
    in one call (batch 6, exported at 2), averaged like the head."""
    recognizer = ExportedRecognizer(exported[fmt], FORMAT_BACKEND[fmt],
                                    average_clips='prob')
    eager, ours = [], []
    with torch.no_grad():
        for i in range(len(demo['dataset'])):
            data = pseudo_collate([demo['dataset'][i]])
            eager.append(demo['model'].test_step(data)[0])
            ours.append(recognizer.test_step(data)[0])
    assert len(ours) == 3
    want = torch.stack([s.pred_score for s in eager])
    got = torch.stack([s.pred_score for s in ours])
    result = compare_scores(got, want)
    assert result.passed, result.describe()
    assert result.cosine >= 0.9999
    assert [s.pred_label.item() for s in ours] == \
        [s.pred_label.item() for s in eager]
    assert torch.allclose(got.sum(1), torch.ones(3))  # 'prob' averaging
    assert want.max(1).values.min() > 0.5  # spread: a clear top-1


@pytest.mark.parametrize('fmt', tuple(FORMATS))
def test_dynamic_batch_runs_other_sizes(demo, exported, fmt):
    runner = load_exported(exported[fmt], FORMAT_BACKEND[fmt])
    assert runner.input_shape == [None, 3, 16, 64, 64]
    assert runner.input_dtype == 'float32'
    scores = ScoresModel(demo['model']).eval()
    for batch in (1, 3):
        result = check_export(scores, runner, (batch, 3, 16, 64, 64))
        assert result.passed, result.describe()
    with pytest.raises(ValueError, match=r'takes clips of shape \[.any., 3, '
                       r'16, 64, 64\].*got \[1, 3, 8, 64, 64\]'):
        runner(clip_of((1, 3, 8, 64, 64)))


def test_fixed_batch_pads_the_last_chunk(demo, exported, tmp_path):
    """Exported at batch 4: a video's 6 views run as 4 + (2 padded to 4),
    giving what the dynamic export gives."""
    path = str(tmp_path / 'fixed.pt')
    export_model(ScoresModel(demo['model']), (4, 3, 16, 64, 64), path,
                 'torchscript', dynamic='none')
    fixed = ExportedRecognizer(path, 'torchscript')
    assert fixed.runner.input_shape == [4, 3, 16, 64, 64]
    dynamic = ExportedRecognizer(exported['torchscript'], 'torchscript')
    views = torch.stack(list(demo['dataset'][1]['inputs'])).float()
    assert views.shape[0] == 6
    assert torch.allclose(fixed.view_scores(views),
                          dynamic.view_scores(views), atol=1e-5)
    with pytest.raises(ValueError, match=r'fixed.pt takes clips of shape '
                       r'\[4, 3, 16, 64, 64\]'):
        fixed.runner(views[:3])


def test_dynamic_all_and_uint8(demo, tmp_path):
    scores = ScoresModel(demo['model'], input_dtype='uint8').eval()
    path = str(tmp_path / 'any.pt2')
    export_model(scores, (1, 3, 8, 64, 64), path, 'exported-program',
                 dynamic='all')  # traced at batch 2: 1 would be fixed
    runner = load_exported(path, 'exported-program')
    assert runner.input_shape == [None, 3, None, None, None]
    assert runner.input_dtype == 'uint8'
    clip = clip_of((3, 3, 12, 40, 48), dtype=torch.uint8)
    with torch.no_grad():
        want = ScoresModel(demo['model']).eval()(clip.float())
    assert torch.allclose(runner(clip), want, atol=1e-4)


def test_refuses_to_overwrite_and_leaves_no_partial(demo, tmp_path,
                                                    monkeypatch):
    scores = ScoresModel(demo['model'])
    path = str(tmp_path / 'm.pt')
    assert export_model(scores, (1, 3, 8, 32, 32), path, 'torchscript') == \
        [path]
    before = os.path.getmtime(path)
    with pytest.raises(FileExistsError, match='m.pt exists; pass --force'):
        export_model(scores, (1, 3, 8, 32, 32), path, 'torchscript')
    assert os.path.getmtime(path) == before

    def broken(*args):
        open(args[2], 'w').write('half')
        raise RuntimeError('disk full')
    monkeypatch.setitem(export_module.WRITERS, 'torchscript', broken)
    with pytest.raises(RuntimeError, match='disk full'):
        export_model(scores, (1, 3, 8, 32, 32), path, 'torchscript',
                     force=True)
    assert sorted(os.listdir(tmp_path)) == ['m.pt']  # no partial left
    assert load_exported(path, 'torchscript').input_shape == \
        [None, 3, 8, 32, 32]  # the old file, whole


def test_openvino_writes_xml_and_bin(exported):
    xml = exported['openvino']
    assert xml.endswith('.xml') and os.path.isfile(xml[:-4] + '.bin')
    assert sorted(os.listdir(os.path.dirname(xml))) == [
        'demo.bin', 'demo.onnx', 'demo.pt', 'demo.pt2', 'demo.xml']
    with pytest.raises(ValueError, match='a openvino file name ends with '
                       '.xml, got m.onnx'):
        export_model(None, EXPORT_SHAPE, 'm.onnx', 'openvino')


@pytest.mark.parametrize('module,fmt', [('onnx', 'onnx'),
                                        ('onnxscript', 'onnx'),
                                        ('openvino', 'openvino')])
def test_export_without_the_library(demo, tmp_path, monkeypatch, module,
                                    fmt):
    monkeypatch.setitem(sys.modules, module, None)  # import fails
    purpose = 'ONNX export' if fmt == 'onnx' else 'OpenVINO export'
    with pytest.raises(ImportError, match=(
            f"{purpose} needs {module}, which is not installed .*: "
            r"pip install 'mmvid\[deploy\]'")):
        export_model(ScoresModel(demo['model']), (1, 3, 8, 32, 32),
                     str(tmp_path / f'm.{"xml" if fmt == "openvino" else fmt}'),
                     fmt)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('backend,fmt', [('onnxruntime', 'onnx'),
                                         ('openvino', 'openvino')])
def test_run_without_the_runtime(exported, monkeypatch, backend, fmt):
    monkeypatch.setitem(sys.modules, backend, None)
    with pytest.raises(ImportError, match=(
            f"the {backend} backend needs {backend}, which is not installed"
            r".*: pip install 'mmvid\[deploy\]'")):
        load_exported(exported[fmt], backend)


def test_default_clip_shape():
    cfg = Config.fromfile(DEMO_CONFIG)
    assert default_clip_shape(cfg) == (1, 3, 16, 64, 64)
    cfg.test_dataloader.dataset.pipeline = [
        dict(type='SampleFrames', clip_len=8, num_clips=1),
        dict(type='CenterCrop', crop_size=(40, 30))]  # mmaction's (w, h)
    assert default_clip_shape(cfg, batch=2) == (2, 3, 8, 30, 40)
    cfg.test_dataloader.dataset.pipeline = [dict(type='SampleFrames',
                                                 clip_len=8)]
    with pytest.raises(ValueError, match='cannot tell the clip shape.*'
                       'give it: --shape N C T H W'):
        default_clip_shape(cfg)


def test_check_fails_on_different_scores():
    eager = torch.tensor([[0., 1., 2.], [3., 1., 0.]])
    result = compare_scores(eager.flip(1), eager)
    assert not result.passed and not result.top1_same
    assert result.describe().startswith('check FAILED: cosine ')
    assert compare_scores(eager * 1.00001, eager).passed

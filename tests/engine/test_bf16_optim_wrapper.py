"""BF16OptimWrapper: bf16 autocast in the forward, fp32 weights."""
import pytest
import torch
import torch.nn.functional as F

from mmvid.engine.optim_wrappers import BF16OptimWrapper


def test_bf16_optim_wrapper_autocasts_the_forward_only():
    model = torch.nn.Sequential(torch.nn.Conv3d(3, 4, 1), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 2 * 4 * 4, 2))
    wrapper = BF16OptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    x = torch.randn(2, 3, 2, 4, 4)
    with wrapper.optim_context(model):
        out = model(x)
    assert out.dtype == torch.bfloat16
    before = model[0].weight.detach().clone()
    wrapper.update_params(F.cross_entropy(out.float(), torch.tensor([0, 1])))
    assert model[0].weight.dtype == torch.float32
    assert not torch.equal(model[0].weight, before)
    with pytest.raises(ValueError, match="device_type must be one of"):
        BF16OptimWrapper(device_type='tpu', optimizer=torch.optim.SGD(
            model.parameters(), lr=0.1))

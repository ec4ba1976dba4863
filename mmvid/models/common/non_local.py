"""Non-local block for video (Wang et al., CVPR 2018) with an SDPA fast path.

Parameters, their names (``g.0.conv``, ``theta.conv``, ``phi.0.conv``,
``conv_out.conv``, ``conv_out.bn``) and their initialisation come from mmcv's
``NonLocal3d``, which this class extends, so mmaction2 checkpoints load
unchanged. Only the attention step is new:

- ``embedded_gaussian`` / ``gaussian``: ``softmax(q k^T * s) v`` runs through
  ``torch.nn.functional.scaled_dot_product_attention``, which never
  materialises the ``[N, P, P']`` weight matrix on its fused kernels.
  ``gaussian`` has ``C`` key but ``C'`` value channels, which PyTorch's CPU
  fused kernel does not take; its unfused fallback is slower than the
  explicit formula, so on CPU ``gaussian`` uses the explicit formula.
- ``dot_product``: ``(q k^T / P') v`` is computed as ``q (k^T v) / P'``
  whenever that needs fewer multiply-adds.
- ``concatenation``: the explicit formula (no fused form exists).

``attention='matmul'`` selects mmcv's explicit N x N formula for every mode.

FAIR's block (video-nonlocal-net, PySlowFast, Tushar-N's port, PyVideoAI)
differs from mmcv's in two places, both options here with mmcv's behaviour
the default: it max-pools ``x`` by 1x2x2 *before* the ``phi`` and ``g``
convolutions (``pool_before_conv=True``; mmcv pools their outputs, and
``max(Wx) != W max(x)``), and its output convolution has a bias before the
BN (``out_bias=True``). Parameter names stay the same, so a FAIR block's
state dict differs from mmcv's only by ``conv_out.conv.bias``.
"""
import warnings
from typing import Optional

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmcv.cnn import NonLocal3d as _MMCVNonLocal3d
from mmengine.model.weight_init import constant_init, normal_init

from mmvid.registry import MODELS

from .._layer_cfg import default_conv_cfg

MODES = ('embedded_gaussian', 'gaussian', 'dot_product', 'concatenation')
ATTENTIONS = ('sdpa', 'matmul')


def reassociate_is_cheaper(num_queries: int, num_keys: int, key_dim: int,
                           value_dim: int) -> bool:
    """Whether ``q (k^T v)`` costs fewer multiply-adds than ``(q k^T) v``.

    ``(q k^T) v`` costs ``P P' (C_k + C_v)``; ``q (k^T v)`` costs
    ``C_k C_v (P + P')``.
    """
    explicit = num_queries * num_keys * (key_dim + value_dim)
    reassociated = key_dim * value_dim * (num_queries + num_keys)
    return reassociated < explicit


@MODELS.register_module()
class NonLocal3d(_MMCVNonLocal3d):
    """Non-local block on ``[N, C, T, H, W]`` features, output ``x + W_z(y)``.

    Args:
        in_channels: Channels ``C`` of the input.
        sub_sample: Max-pool ``g`` and ``phi`` by 1x2x2, so keys and values
            have ``P' = T*H/2*W/2`` positions.
        pool_before_conv: With ``sub_sample``, pool ``x`` before the ``g``
            and ``phi`` convs (FAIR) instead of after them (mmcv).
        out_bias: Give ``conv_out``'s convolution a bias (FAIR).
        reduction: ``C' = max(C // reduction, 1)`` channels inside the block.
        use_scale: ``embedded_gaussian`` only: scale logits by ``C'^-1/2``.
        conv_cfg: Convolution config (``Conv3d``).
        norm_cfg: Norm of ``conv_out`` (e.g. ``dict(type='BN3d')``), or None.
        mode: One of ``'embedded_gaussian'``, ``'gaussian'``,
            ``'dot_product'``, ``'concatenation'``.
        attention: ``'sdpa'`` (fast, default) or ``'matmul'`` (explicit).
        std: Std of the normal init of the ``g``/``theta``/``phi`` convs.
        zeros_init: Zero ``conv_out``'s norm (or conv) so the block starts as
            the identity.
    """

    def __init__(self,
                 in_channels: int,
                 sub_sample: bool = False,
                 pool_before_conv: bool = False,
                 out_bias: bool = False,
                 reduction: int = 2,
                 use_scale: bool = True,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 mode: str = 'embedded_gaussian',
                 attention: str = 'sdpa',
                 std: float = 0.01,
                 zeros_init: bool = True) -> None:
        if mode not in MODES:
            raise ValueError(f'non_local_cfg.mode must be one of {MODES}, '
                             f'got {mode!r}')
        if attention not in ATTENTIONS:
            raise ValueError(f'non_local_cfg.attention must be one of '
                             f'{ATTENTIONS}, got {attention!r}')
        if not isinstance(reduction, int) or reduction < 1:
            raise ValueError('non_local_cfg.reduction must be a positive int, '
                             f'got {reduction!r}')
        if pool_before_conv and not sub_sample:
            raise ValueError('non_local_cfg.pool_before_conv=True needs '
                             'sub_sample=True (there is no pool to move)')
        if mode == 'concatenation' and pool_before_conv:
            raise ValueError("non_local_cfg.pool_before_conv is not supported "
                             "with mode='concatenation'")
        super().__init__(
            in_channels,
            sub_sample=sub_sample,
            conv_cfg=conv_cfg or default_conv_cfg(),
            reduction=reduction,
            use_scale=use_scale,
            norm_cfg=norm_cfg,
            mode=mode,
            std=std,
            zeros_init=zeros_init)
        self.attention = attention
        self.pool_before_conv = pool_before_conv
        self.out_bias = out_bias
        if out_bias:
            with warnings.catch_warnings():  # the bias before the BN is
                warnings.filterwarnings(  # FAIR's, wanted here
                    'ignore', 'Unnecessary conv bias', UserWarning)
                self.conv_out = ConvModule(
                    self.inter_channels, in_channels, kernel_size=1,
                    conv_cfg=conv_cfg or default_conv_cfg(),
                    norm_cfg=norm_cfg, act_cfg=None,
                    bias=True)  # its own init: kaiming, bias 0
            self._init_conv_out(std, zeros_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[N, C, T, H, W]`` (any memory format) -> same shape."""
        n = x.size(0)
        g_x, keys = self.values_and_keys(x)
        g_x = g_x.flatten(2).transpose(1, 2)  # [N, P', C']
        phi_x = keys.flatten(2).transpose(1, 2)  # [N, P', C_k]
        if self.mode == 'gaussian':
            theta_x = x.flatten(2).transpose(1, 2)  # [N, P, C]
        else:
            theta_x = self.theta(x).flatten(2).transpose(1, 2)  # [N, P, C']
        y = self.attend(theta_x, phi_x, g_x)  # [N, P, C']
        # [N, P, C'] -> [N, C', T, H, W]
        y = y.transpose(1, 2).reshape(n, self.inter_channels, *x.shape[2:])
        return x + self.conv_out(y)

    def _init_conv_out(self, std: float, zeros_init: bool) -> None:
        """mmcv's init of ``conv_out``: zero (or N(0, std)) its norm, or
        its conv when it has no norm."""
        target = self.conv_out.conv if self.conv_out.norm_cfg is None \
            else self.conv_out.norm
        if zeros_init:
            constant_init(target, 0)
        else:
            normal_init(target, std=std)

    def values_and_keys(self, x: torch.Tensor):
        """``g`` and ``phi`` of ``x`` (``[N, C, T, H, W]``), pooled as
        configured.

        Returns:
            ``g``: ``[N, C', T, H', W']``; keys: ``[N, C_k, T, H', W']``
            (``C_k = C`` for ``gaussian``, whose keys are ``x`` itself).
        """
        if not self.pool_before_conv:
            keys = x if self.mode == 'gaussian' and not self.sub_sample \
                else self.phi(x)
            return self.g(x), keys
        conv_g, pool = self.g  # Sequential(conv, pool) when sub_sampling
        pooled = pool(x)
        if self.mode == 'gaussian':  # phi is the pool itself
            return conv_g(pooled), pooled
        return conv_g(pooled), self.phi[0](pooled)

    def concatenation(self, theta_x: torch.Tensor,
                      phi_x: torch.Tensor) -> torch.Tensor:
        """mmcv's concatenation weights ``ReLU(w [theta_i; phi_j]) / P'``.

        mmcv divides the output of ``concat_project``'s in-place ReLU in
        place, which makes backward fail; this divides out of place.

        Args:
            theta_x: ``[N, C', P, 1]``.
            phi_x: ``[N, C', 1, P']``.

        Returns:
            ``[N, P, P']``.
        """
        num_queries, num_keys = theta_x.size(2), phi_x.size(3)
        pairs = torch.cat([
            theta_x.expand(-1, -1, -1, num_keys),
            phi_x.expand(-1, -1, num_queries, -1)
        ], dim=1)  # [N, 2C', P, P']
        return self.concat_project(pairs).squeeze(1) / num_keys

    @staticmethod
    def fused_sdpa_applies(queries: torch.Tensor,
                           values: torch.Tensor) -> bool:
        """Whether a fused SDPA kernel can take these widths: the CPU kernel
        needs equal key and value channels (``gaussian`` has C vs C')."""
        return queries.device.type != 'cpu' or \
            queries.shape[-1] == values.shape[-1]

    def attend(self, theta_x: torch.Tensor, phi_x: torch.Tensor,
               g_x: torch.Tensor) -> torch.Tensor:
        """Pairwise weights applied to values.

        Args:
            theta_x: Queries ``[N, P, C_k]``.
            phi_x: Keys ``[N, P', C_k]``.
            g_x: Values ``[N, P', C_v]``.

        Returns:
            ``[N, P, C_v]``.
        """
        if self.mode == 'concatenation':
            weight = self.concatenation(
                theta_x.transpose(1, 2).unsqueeze(-1),  # [N, C', P, 1]
                phi_x.transpose(1, 2).unsqueeze(2))  # [N, C', 1, P']
            return torch.matmul(weight, g_x)
        if self.attention == 'matmul' or not self.fused_sdpa_applies(
                theta_x, g_x):
            weight = getattr(self, self.mode)(theta_x, phi_x.transpose(1, 2))
            return torch.matmul(weight, g_x)
        if self.mode == 'dot_product':
            num_keys = phi_x.shape[1]
            if reassociate_is_cheaper(theta_x.shape[1], num_keys,
                                      theta_x.shape[2], g_x.shape[2]):
                context = torch.matmul(phi_x.transpose(1, 2), g_x)  # [C_k,C_v]
                return torch.matmul(theta_x, context) / num_keys
            weight = torch.matmul(theta_x, phi_x.transpose(1, 2)) / num_keys
            return torch.matmul(weight, g_x)
        scale = 1.0
        if self.mode == 'embedded_gaussian' and self.use_scale:
            scale = theta_x.shape[-1]**-0.5
        # Fused SDPA kernels only take 4-D [N, heads, L, E] inputs with a
        # unit stride on E; 3-D or transposed inputs silently run the math
        # kernel, which materialises the [N, P, P'] weights.
        q, k, v = (t.unsqueeze(1).contiguous() for t in (theta_x, phi_x, g_x))
        return F.scaled_dot_product_attention(q, k, v, scale=scale).squeeze(1)

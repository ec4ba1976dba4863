"""Inference and training speed of I3D R50 under the fast-path switches,
as ratios against fp32 NCDHW eager measured in the same process.

Inference (model only, eval, no_grad): one view of ``--frames`` x
``--size``² raw uint8 pixels through the data preprocessor (normalisation),
backbone and head, as ``test_step`` computes the logits, for

- ``fp32 NCDHW``: the baseline (``memory_format='contiguous'``);
- ``fp32 channels_last_3d``: the recognizer's default on a CPU;
- ``fp32 CL + folded BN``: ``--fast`` on a CPU without native bf16;
- ``bf16 CL + folded BN``: ``--fast`` with native bf16 (CPU or GPU);
  on a CPU without it, only with ``--slow-bf16`` (it is much slower);
- with ``--compile``: ``fp32 CL + compile`` and ``bf16 CL + compile``,
  what ``--compile`` runs (frozen weights, BN folded by inductor, autocast
  inside the compiled call; :mod:`mmvid.apis.compiled`), compiled in the
  warm-up call.

Training: one step (forward, cross-entropy, backward, SGD) at
``--batch`` clips for fp32 NCDHW, fp32 channels_last_3d and, where bf16 is
native (or with ``--slow-bf16``), bf16 autocast + channels_last_3d (what
``tools/train.py --amp`` runs); with ``--compile`` also both through
``torch.compile`` (forward and backward, as ``tools/train.py --compile``).

Each configuration is timed ``--repeats`` times after one warm-up call, the
configurations interleaved in a rotating order so that drift in the
machine's speed affects all alike; the median is reported. Every fast
variant's logits are compared with the baseline's (cosine, top-1).

Example::

    python benchmarks/fast_path_speedup.py           # I3D R50, 32x224
    python benchmarks/fast_path_speedup.py --frames 8 --size 112 --repeats 3
    python benchmarks/fast_path_speedup.py --compile   # + compiled rows
"""
import argparse
import copy
import sys
from typing import Callable, List, Optional

import torch
import torch.nn.functional as F

from mmvid.analysis.machine import cpu_name
from mmvid.apis import load_config, turn_off_pretrained
from mmvid.apis.fast_path import (FastPath, apply_fast_path, autocast,
                                  native_bf16)
from mmvid.registry import MODELS
from mmvid.utils import register_all_modules

from benchkit import (fmt_ms, fmt_ratio, interleaved_times,
                      machine_description, medians, ratio, write_json)

CONFIG = 'configs/recognition/i3d/i3d_r50_32x2x1_100e_kinetics400_rgb.py'


def build(config: str, memory_format: str, device: torch.device,
          state: dict = None) -> torch.nn.Module:
    cfg = load_config(config)
    turn_off_pretrained(cfg.model)
    cfg.model.memory_format = memory_format
    model = MODELS.build(cfg.model)
    if state is None:
        model.init_weights()
    else:
        model.load_state_dict(state)
    return model.to(device)


def randomize_bn_(model: torch.nn.Module) -> None:
    """Non-trivial BN statistics, so folding them is a real change."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm3d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(n, generator=gen) + 0.5)


def agreement(logits: torch.Tensor, ref: torch.Tensor) -> dict:
    return dict(
        cosine=F.cosine_similarity(logits.float().flatten(1),
                                   ref.flatten(1)).min().item(),
        top1_agree=bool((logits.argmax(1) == ref.argmax(1)).all()))


def logits_call(model: torch.nn.Module, amp: Optional[str],
                clip: torch.Tensor) -> Callable[[], torch.Tensor]:
    """What ``test_step`` computes for a video of one view, up to the
    logits: data preprocessor, ``extract_feat`` (layout), head, on the raw
    pixels ``clip`` (uint8 ``[3, T, H, W]``), under autocast to ``amp``
    (None for a compiled model: its autocast is inside)."""
    data = dict(inputs=[clip[None]])
    device = clip.device

    def call():
        with torch.no_grad(), autocast(device, amp):
            inputs = model.data_preprocessor(data)['inputs']
            return model.cls_head(model.extract_feat(inputs)).float()

    return call


def inference(args, device: torch.device, bf16: bool) -> dict:
    base = build(args.config, 'contiguous', device).eval()
    randomize_bn_(base)
    state = base.state_dict()
    variants = {'fp32 NCDHW': (base, None)}
    cl = build(args.config, 'channels_last_3d', device, state).eval()
    variants['fp32 channels_last_3d'] = (cl, None)
    fused = build(args.config, 'channels_last_3d', device, state)
    apply_fast_path(fused, FastPath(channels_last=True, fuse_conv_bn=True))
    variants['fp32 CL + folded BN'] = (fused, None)
    if args.compile:  # what --compile runs: frozen, inductor folds BN
        compiled = build(args.config, 'channels_last_3d', device, state)
        apply_fast_path(compiled, FastPath(channels_last=True, compile=True),
                        log=print)
        variants['fp32 CL + compile'] = (compiled, None)
    if bf16:
        fast = build(args.config, 'channels_last_3d', device, state)
        apply_fast_path(fast, FastPath(amp='bf16', channels_last=True,
                                       fuse_conv_bn=True),
                        allow_slow_amp=True)
        variants['bf16 CL + folded BN'] = (fast, 'bf16')
    if bf16 and args.compile:  # autocast inside the compiled call
        fast = build(args.config, 'channels_last_3d', device, state)
        apply_fast_path(fast, FastPath(amp='bf16', channels_last=True,
                                       compile=True),
                        allow_slow_amp=True, log=print)
        variants['bf16 CL + compile'] = (fast, None)
    gen = torch.Generator().manual_seed(1)
    clip = torch.randint(0, 256, (3, args.frames, args.size, args.size),
                         generator=gen, dtype=torch.uint8).to(device)
    calls = {name: logits_call(model, amp, clip)
             for name, (model, amp) in variants.items()}
    outputs = {name: call() for name, call in calls.items()}
    seconds = medians(interleaved_times(calls, args.repeats, device=device))
    ref = outputs['fp32 NCDHW'].float()
    return {name: dict(seconds=seconds[name],
                       speedup=ratio(seconds['fp32 NCDHW'], seconds[name]),
                       **agreement(outputs[name], ref))
            for name in variants}


def training(args, device: torch.device, bf16: bool) -> dict:
    base = build(args.config, 'contiguous', device)
    state = base.state_dict()
    variants = {'fp32 NCDHW': ('contiguous', None),
                'fp32 channels_last_3d': ('channels_last_3d', None)}
    if bf16:
        variants['bf16 autocast + CL'] = ('channels_last_3d', 'bf16')
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(args.batch, 3, args.frames, args.size, args.size,
                    generator=gen).to(device)
    y = torch.arange(args.batch, device=device) % 400
    if args.compile:  # forward + backward compiled (mmengine's compile)
        variants['fp32 CL + compile'] = ('channels_last_3d', None)
        if bf16:
            variants['bf16 autocast + CL + compile'] = ('channels_last_3d',
                                                        'bf16')
    steps = {}
    for name, (fmt, amp) in variants.items():
        model = build(args.config, fmt, device, copy.deepcopy(state)).train()
        optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        inputs = x.contiguous(memory_format=torch.channels_last_3d) \
            if fmt == 'channels_last_3d' else x
        net = torch.nn.Sequential(model.backbone, model.cls_head)
        if name.endswith('compile'):
            net = torch.compile(net)

        def step(net=net, optim=optim, inputs=inputs, amp=amp):
            with autocast(device, amp):
                logits = net(inputs)
            loss = F.cross_entropy(logits.float(), y)
            optim.zero_grad()
            loss.backward()
            optim.step()

        steps[name] = step
    seconds = medians(interleaved_times(steps, max(1, args.repeats // 2),
                                        device=device))
    return {name: dict(seconds=seconds[name],
                       speedup=ratio(seconds['fp32 NCDHW'], seconds[name]))
            for name in variants}


def table(title: str, rows: dict) -> List[str]:
    lines = [title]
    for name, row in rows.items():
        line = (f'  {name:<26} {fmt_ms(row["seconds"] * 1e3):>9} ms   '
                f'{fmt_ratio(row["speedup"]):>6}')
        if 'cosine' in row:
            line += (f'   logit cosine {row["cosine"]:.6f}, top-1 '
                     f'{"same" if row["top1_agree"] else "DIFFERS"}')
        lines.append(line)
    return lines


def view_parser(doc: str, repeats: int) -> argparse.ArgumentParser:
    """The options of a script timing one I3D view (``doc``: its module
    docstring): ``--config`` (I3D R50), ``--frames`` (32), ``--size`` (224),
    ``--repeats`` (``repeats``) and ``--json``."""
    parser = argparse.ArgumentParser(
        description=doc.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=doc.split('\n', 1)[1])
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--frames', type=int, default=32)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--repeats', type=int, default=repeats)
    parser.add_argument('--json', help='write the figures here')
    return parser


def main(argv=None) -> int:
    parser = view_parser(__doc__, repeats=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch', type=int, default=2,
                        help='training batch (default 2)')
    parser.add_argument('--skip-training', action='store_true')
    parser.add_argument('--compile', action='store_true',
                        help='also time torch.compile (inference with '
                        'frozen weights, and training; the warm-up call '
                        'compiles)')
    parser.add_argument('--slow-bf16', action='store_true',
                        help='also time bf16 where it is not native')
    args = parser.parse_args(argv)
    register_all_modules()
    device = torch.device(args.device)
    native = native_bf16(device)
    bf16 = native or args.slow_bf16
    machine = machine_description(device)
    name = machine['gpu'] or \
        f'{cpu_name()}, {machine["torch_threads"]} threads'
    print(f'device: {device} ({name}); native bf16: '
          f'{"yes" if native else "no"}; torch {machine["torch"]}, '
          f'python {machine["python"]}')
    print(f'model: {args.config} (random weights); input '
          f'1x3x{args.frames}x{args.size}x{args.size}; median of '
          f'{args.repeats} after 1 warm-up')
    if not bf16:
        print('bf16 rows left out: no native bf16 here (--slow-bf16 to time '
              'them anyway)')
    results = dict(device=str(device), device_name=name, native_bf16=native,
                   torch=machine['torch'], machine=machine,
                   input=[args.frames, args.size, args.size])
    results['inference'] = inference(args, device, bf16)
    print('\n'.join(table('inference, one view (vs fp32 NCDHW eager):',
                          results['inference'])))
    if not args.skip_training:
        results['training'] = training(args, device, bf16)
        print('\n'.join(table(
            f'training step, batch {args.batch} (vs fp32 NCDHW eager):',
            results['training'])))
    write_json(args.json, results)
    return 0


if __name__ == '__main__':
    sys.exit(main())

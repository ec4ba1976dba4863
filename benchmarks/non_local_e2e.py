"""Benchmark the whole NL I3D R50: ``attention='matmul'`` vs ``'sdpa'``.

Inference and one training step, NonLocal3d's ``'matmul'`` form the
baseline. The NL embedded-gaussian I3D R50 (``--config``, default
``i3d_nl_embedded_gaussian_r50_32x2x1_100e_kinetics400_rgb.py`` in
``configs/recognition/i3d/``: five ``NonLocal3d`` blocks, after
``layer2.{1,3}`` and ``layer3.{1,3,5}``), built by ``init_recognizer``
(every ``pretrained`` off, random init) in one process. ``attention`` is
switched between ``'matmul'`` and ``'sdpa'`` on every ``NonLocal3d`` of that
one model, so both forms run the same weights.
The blocks' ``conv_out`` BN weight is drawn from N(1, 0.1) (the config's
``zeros_init`` makes each block the identity, which would make the agreement
check below vacuous; the cost of a call does not depend on it).

- ``inference``: ``model.test_step`` (data preprocessor, forward, softmax
  over classes) of one ``3 x --frames x --size x --size`` uint8 view, eval
  mode, under ``torch.no_grad()``.
- ``train``: ``model.train_step`` with the config's optimizer wrapper (SGD,
  momentum 0.9, weight decay 1e-4, gradient clipping at norm 40) on a batch
  of ``--batch`` (default 2) such views with labels: preprocessing, forward,
  cross-entropy loss, backward, clipping and the SGD step.

Times: ``--warmup`` calls of each form, then ``--repeats`` calls of each,
alternating (matmul, sdpa, sdpa, matmul, ...); medians, synchronised on
CUDA. Memory: peak extra memory of one more call of each (phase, form) after
one warm-up call of it (so SGD's momentum buffers exist already; the
gradients, freed by ``zero_grad`` after each step, are counted). On CPU it
is the growth of the resident-set high-water mark over the call (reset
through ``/proc/self/clear_refs``; ``n/a`` where that cannot be written),
measured in a fresh subprocess per (phase, form) with glibc's mmap threshold
pinned, as the per-block figures of ``non_local_block.py`` are (its
docstring says why); on CUDA ``torch.cuda.max_memory_allocated()`` in this
process. Ratios are matmul / sdpa of the figures printed.

Agreement: from the same weights, the relative error ``|a_sdpa -
a_matmul| / |a_matmul|`` of the eval logits (one view) must be below 1e-4.
The training-mode logits, loss and gradient vector (same dropout mask) of a
randomly initialised network normalised by train-mode BN over a batch of 2
are ill-conditioned in float32: moving every input value by one ulp changes
the matmul form's training logits by ~2e-4 and its gradients by ~1e-1 at the
default size. Each training quantity is therefore printed with that float32
floor (the matmul form on the input moved by one ulp in random directions,
at least float32's machine epsilon: on some CPUs the nudge changes nothing),
``max(measured, float32 eps)``, and must be below ``max(1e-4, 3 x floor)``.
Otherwise the script exits with status 1. The aten ops run by the eval
forward show which attention kernel each form used (an SDPA kernel should
appear for ``sdpa`` only).

Example::

    python benchmarks/non_local_e2e.py --json e2e.json
    python benchmarks/non_local_e2e.py --size 112  # less
"""
import argparse
import gc
import json
import inspect
import os
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable, List, Optional

import torch
from mmengine.config import DictAction
from mmengine.optim import build_optim_wrapper

from mmvid.apis.inference import init_recognizer, load_config
from mmvid.models.common.non_local import NonLocal3d
from mmvid.models.utils import memory_format_of
from mmvid.structures import ActionDataSample
from mmvid.utils import register_all_modules

from benchkit import (MMAP_THRESHOLD, KernelRecorder, PeakMemory,
                      add_run_options, describe_cpu, fmt_mib, fmt_ms,
                      fmt_ratio, interleaved_times, machine_description,
                      medians, ratio, report_to_parent, run_worker, to_mib,
                      write_json)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(
    'configs', 'recognition', 'i3d',
    'i3d_nl_embedded_gaussian_r50_32x2x1_100e_kinetics400_rgb.py')
FORMS = ('matmul', 'sdpa')
PHASES = ('inference', 'train')
TOLERANCE = 1e-4  # relative error the two forms must agree to
FLOOR_FACTOR = 3  # training outputs: or to this many times their fp32 floor
# The least float32 floor: float32's machine epsilon. Two float32 results
# cannot be told apart more finely than that, and the one-ulp nudge does not
# always move the outputs: on some CPUs' kernels it measured exactly 0 (seen
# on an Intel Sapphire Rapids), which is no floor to compare against.
MIN_FLOOR = torch.finfo(torch.float32).eps


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_run_options(parser, batch=2, batch_help='training batch (default 2)')
    parser.add_argument('--config', default=CONFIG,
                        help='recognizer config; a relative path not found '
                        'from the current directory is taken from the '
                        'repository root (default: the NL embedded-gaussian '
                        'I3D R50)')
    parser.add_argument('--frames', type=int, default=32)
    parser.add_argument(
        '--size', type=int, default=224,
        help='crop height and width (below 64, layer4 of R50 is 1x1 and '
        'train-mode BN over 2 values per channel is ill-conditioned)')
    parser.add_argument(
        '--memory', default='auto',
        choices=['auto', 'subprocess', 'inprocess', 'none'],
        help='auto: a fresh subprocess per case on CPU, in-process on CUDA; '
        'inprocess on CPU undercounts (heap reuse), for tests only')
    parser.add_argument('--json', metavar='OUT',
                        help='also write the results to this JSON file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default=None,
        help='overrides merged into the config, e.g. a smaller model')
    parser.add_argument('--e2e-memory-worker', metavar='JSON',
                        help=argparse.SUPPRESS)  # internal: one memory case
    return parser.parse_args(argv)


@dataclass
class E2ESettings:
    """What :func:`run_end_to_end` builds and runs (see the docstring)."""
    config: str = CONFIG  # relative: to the cwd, else to the repo root
    cfg_options: Optional[dict] = None
    device: str = 'cpu'
    frames: int = 32
    size: int = 224
    batch: int = 2  # training batch; inference is always one view
    warmup: int = 1
    repeats: int = 3
    threads: Optional[int] = None
    memory: str = 'auto'  # 'auto' | 'subprocess' | 'inprocess' | 'none'

    def config_path(self) -> str:
        if os.path.isabs(self.config) or os.path.exists(self.config):
            return self.config
        return os.path.join(REPO, self.config)


def default_attention() -> str:
    """``NonLocal3d``'s default ``attention`` (what configs get)."""
    return inspect.signature(NonLocal3d).parameters['attention'].default


def set_attention(blocks, form: str) -> None:
    """``attention = form`` on every ``NonLocal3d``."""
    for block in blocks:
        block.attention = form


def with_attention(blocks, form: str, call: Callable) -> Callable:
    """``call`` run with ``attention = form`` on every ``NonLocal3d``."""

    def run():
        set_attention(blocks, form)
        return call()

    return run


def build_e2e(settings: E2ESettings):
    """The recognizer (random init, eval), its NonLocal3d blocks, the
    config's optimizer wrapper, the attention the blocks were built with,
    and the inputs (one inference view, one training batch)."""
    register_all_modules()
    cfg = load_config(settings.config_path(), settings.cfg_options)
    torch.manual_seed(0)
    model = init_recognizer(cfg, None, device=settings.device)
    blocks = [m for m in model.modules() if isinstance(m, NonLocal3d)]
    if not blocks:
        raise ValueError(f'{settings.config} builds no NonLocal3d block')
    built_as = sorted({b.attention for b in blocks})
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():  # non-identity blocks, see the docstring
        for block in blocks:
            if block.conv_out.with_norm:
                weight = block.conv_out.norm.weight
                new = 1.0 + 0.1 * torch.randn(weight.shape, generator=gen)
            else:
                weight = block.conv_out.conv.weight
                fan_in = weight[0].numel()
                new = torch.randn(weight.shape, generator=gen) * fan_in**-0.5
            weight.copy_(new.to(weight.device))
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)

    shape = (1, 3, settings.frames, settings.size, settings.size)

    def view():
        return torch.randint(0, 256, shape, dtype=torch.uint8, generator=gen)

    num_classes = model.cls_head.num_classes
    labels = torch.randint(0, num_classes, (settings.batch, ), generator=gen)
    batches = dict(
        inference=dict(inputs=[view()], data_samples=[ActionDataSample()]),
        train=dict(
            inputs=[view() for _ in range(settings.batch)],
            data_samples=[
                ActionDataSample().set_gt_label(int(label))
                for label in labels
            ]))
    return model, blocks, optim_wrapper, built_as, batches


def e2e_calls(model, optim_wrapper, batches) -> dict:
    """One call of each phase (see the docstring)."""

    def inference():
        model.eval()
        with torch.no_grad():
            return model.test_step(batches['inference'])

    def train():
        model.train()
        return model.train_step(batches['train'], optim_wrapper)

    return dict(inference=inference, train=train)


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """``|a - b| / |b|`` in float64."""
    a, b = a.detach().double(), b.detach().double()
    return ((a - b).norm() / b.norm()).item()


def attention_kernels(ops) -> list:
    """The SDPA kernels among recorded aten op names."""
    return sorted(op for op in ops
                  if op.startswith(('_scaled_dot_product', '_efficient_att',
                                    '_flash_att', '_cudnn_att')))


def one_ulp_away(x: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """``x`` with every value moved to a neighbouring float (random side)."""
    gen = torch.Generator().manual_seed(seed)
    up = torch.rand(x.shape, generator=gen).to(x.device) < 0.5
    inf = torch.tensor(float('inf'), dtype=x.dtype, device=x.device)
    return torch.where(up, torch.nextafter(x, inf), torch.nextafter(x, -inf))


def e2e_agreement(model, blocks, batches) -> dict:
    """Both forms from the same weights: eval logits of the inference view;
    training-mode logits (same dropout mask), loss and gradients of the
    training batch, with their float32 floor; and the SDPA kernels each
    form's eval forward ran. Restores the weights and BN statistics.

    See the module docstring for what must hold.
    """
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    data_eval = model.data_preprocessor(batches['inference'], False)
    data_train = model.data_preprocessor(batches['train'], True)
    kernels, eval_logits = {}, {}
    model.eval()
    for form in FORMS:  # eval first: training forwards update BN statistics
        set_attention(blocks, form)
        rec = KernelRecorder()
        with torch.no_grad(), rec:
            feats = model.extract_feat(data_eval['inputs'])
        with torch.no_grad():
            eval_logits[form] = model.cls_head(feats)
        kernels[form] = attention_kernels(rec.ops)

    captured = []

    def train_outputs(form, inputs):
        set_attention(blocks, form)
        model.load_state_dict(saved)
        model.train()
        model.zero_grad(set_to_none=True)
        captured.clear()
        torch.manual_seed(0)  # the same dropout mask
        loss, _ = model.parse_losses(
            model(inputs, data_train['data_samples'], mode='loss'))
        loss.backward()
        grads = torch.cat([
            p.grad.detach().flatten() for p in model.parameters()
            if p.grad is not None
        ])
        model.zero_grad(set_to_none=True)
        return dict(train_logits=captured[0], train_loss=loss.detach(),
                    train_gradients=grads)

    hook = model.cls_head.register_forward_hook(
        lambda module, args, out: captured.append(out.detach()))
    try:
        train = {f: train_outputs(f, data_train['inputs']) for f in FORMS}
        nudged = train_outputs('matmul', one_ulp_away(data_train['inputs']))
    finally:
        hook.remove()
    model.load_state_dict(saved)
    model.eval()
    errors = dict(eval_logits=relative_error(eval_logits['sdpa'],
                                             eval_logits['matmul']))
    measured, floor, limits = {}, {}, dict(eval_logits=TOLERANCE)
    for name in train['matmul']:
        errors[name] = relative_error(train['sdpa'][name],
                                      train['matmul'][name])
        measured[name] = relative_error(nudged[name], train['matmul'][name])
        floor[name] = max(measured[name], MIN_FLOOR)
        limits[name] = max(TOLERANCE, FLOOR_FACTOR * floor[name])
    return dict(
        relative_errors=errors,
        measured_floor=measured,
        float32_floor=floor,
        min_floor=MIN_FLOOR,
        limits=limits,
        tolerance=TOLERANCE,
        floor_factor=FLOOR_FACTOR,
        agree=all(errors[k] < limits[k] for k in errors),
        attention_kernels=kernels,
        kernels_as_expected=(not kernels['matmul'] and bool(kernels['sdpa'])))


def e2e_times(model, blocks, optim_wrapper, batches,
              settings: E2ESettings) -> dict:
    """Per phase and form, the seconds of every timed call (alternating)."""
    calls = e2e_calls(model, optim_wrapper, batches)
    return {
        phase: interleaved_times(
            {form: with_attention(blocks, form, calls[phase])
             for form in FORMS}, settings.repeats, settings.warmup,
            torch.device(settings.device))
        for phase in PHASES
    }


def e2e_memory_case(model, blocks, optim_wrapper, batches, phase, form,
                    memory: PeakMemory) -> Optional[int]:
    """Peak extra bytes of one call after one warm-up call of it."""
    set_attention(blocks, form)
    call = e2e_calls(model, optim_wrapper, batches)[phase]
    call()
    gc.collect()
    if memory.device.type == 'cuda':
        torch.cuda.empty_cache()
    out, peak = memory.measure(call)
    del out
    return peak


def e2e_memory_worker(spec: str) -> None:
    """Subprocess entry: one (phase, form) memory case, JSON on stdout."""
    spec = json.loads(spec)
    phase, form = spec.pop('phase'), spec.pop('form')
    settings = E2ESettings(**spec)
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    memory = PeakMemory(torch.device(settings.device))
    model, blocks, optim_wrapper, _, batches = build_e2e(settings)
    report_to_parent(dict(peak=e2e_memory_case(
        model, blocks, optim_wrapper, batches, phase, form, memory)))


def e2e_memory_in_subprocess(settings: E2ESettings, phase: str,
                             form: str) -> Optional[int]:
    """CPU: :func:`e2e_memory_case` in a fresh process with glibc's mmap
    threshold pinned (``benchkit.run_worker``)."""
    spec = dict(asdict(settings), phase=phase, form=form)
    argv = [os.path.abspath(__file__), '--e2e-memory-worker',
            json.dumps(spec)]
    return run_worker(argv, f'{phase} {form}')['peak']


def memory_mode(settings: E2ESettings, memory: PeakMemory) -> str:
    """How memory is measured: ``'subprocess'``, ``'inprocess'`` or
    ``'none'`` (see ``--memory``)."""
    mode = settings.memory
    device_type = memory.device.type
    if mode == 'auto':
        mode = 'subprocess' if device_type == 'cpu' else 'inprocess'
    if mode == 'subprocess' and device_type != 'cpu':
        mode = 'inprocess'  # CUDA statistics are per process and exact
    if not memory.available:
        mode = 'none'
    return mode


def memory_kind(mode: str, device: torch.device) -> str:
    """What the memory figures are, in words."""
    return dict(
        subprocess='CPU: growth of peak RSS over one call, fresh subprocess '
        f'per case, MALLOC_MMAP_THRESHOLD_={MMAP_THRESHOLD}',
        inprocess=('CUDA: max_memory_allocated over one call minus '
                   'memory_allocated before it' if device.type == 'cuda' else
                   'CPU: growth of peak RSS over one call, in this process '
                   '(undercounts: heap reuse)'),
        none='not measured')[mode]


def run_end_to_end(settings: E2ESettings,
                   log: Callable[[str], None] = lambda msg: print(
                       msg, file=sys.stderr, flush=True)) -> dict:
    """Measure both attention forms on the whole recognizer.

    Returns a JSON-ready dict: ``machine``, ``settings``, ``model`` (the
    blocks and the attention they were built with), per phase ``ms``
    (median per form), ``ratio`` (matmul / sdpa of ``ms``), ``memory_mib``
    and ``memory_ratio``, the raw ``times_ms``, and ``agreement``.
    """
    device = torch.device(settings.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: CUDA is not available')
    for name in ('frames', 'size', 'batch', 'repeats'):
        if getattr(settings, name) < 1:
            raise ValueError(f'{name} must be >= 1')
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    start = time.perf_counter()

    log('building the model')
    model, blocks, optim_wrapper, built_as, batches = build_e2e(settings)
    model_info = dict(
        config=settings.config,
        nonlocal_blocks=len(blocks),
        nonlocal_names=[n for n, m in model.named_modules()
                        if isinstance(m, NonLocal3d)],
        built_with_attention=built_as,
        default_attention=default_attention(),
        memory_format=memory_format_of(model),
        parameters=sum(p.numel() for p in model.parameters()))
    log('checking that the two forms agree')
    agreement = e2e_agreement(model, blocks, batches)
    log('timing')
    times = e2e_times(model, blocks, optim_wrapper, batches, settings)

    memory = PeakMemory(device)
    mode = memory_mode(settings, memory)
    peaks = {p: {f: None for f in FORMS} for p in PHASES}
    if mode == 'inprocess':
        for phase in PHASES:
            for form in FORMS:
                log(f'memory {phase} {form}')
                peaks[phase][form] = e2e_memory_case(
                    model, blocks, optim_wrapper, batches, phase, form, memory)
    del model, blocks, optim_wrapper, batches
    gc.collect()
    if mode == 'subprocess':
        for phase in PHASES:
            for form in FORMS:
                log(f'memory {phase} {form} (subprocess)')
                peaks[phase][form] = e2e_memory_in_subprocess(
                    settings, phase, form)

    result = dict(
        machine=machine_description(device),
        settings=asdict(settings),
        dtype='float32',
        model=model_info,
        memory_kind=memory_kind(mode, device),
        agreement=agreement)
    for phase in PHASES:
        times_ms = {f: [t * 1e3 for t in times[phase][f]] for f in FORMS}
        ms = medians(times_ms)
        mib = {f: to_mib(peaks[phase][f]) for f in FORMS}
        result[phase] = dict(
            ms=ms,
            ratio=ratio(ms['matmul'], ms['sdpa']),
            memory_mib=mib,
            memory_ratio=ratio(mib['matmul'], mib['sdpa']),
            times_ms=times_ms)
    result['total_s'] = time.perf_counter() - start
    return result


def format_end_to_end(result: dict) -> str:
    """The printed report of :func:`run_end_to_end`'s result."""
    m, st, mod = result['machine'], result['settings'], result['model']
    agr = result['agreement']
    dev = m['device'] + (f' ({m["gpu"]})' if m['gpu'] else '')
    names = ', '.join(n.replace('backbone.', '')
                      for n in mod['nonlocal_names'])
    view = f'3x{st["frames"]}x{st["size"]}x{st["size"]}'
    lines = [
        'NonLocal3d end-to-end benchmark: attention=\'matmul\' (baseline) '
        'vs \'sdpa\'',
        f'machine: {describe_cpu(m)}, torch {m["torch"]}, '
        f'{m["torch_threads"]} threads, device {dev}',
        f'model: {mod["config"]}' + (
            f' with {st["cfg_options"]}' if st['cfg_options'] else '') +
        f'; random init, {mod["parameters"] / 1e6:.1f} M parameters, '
        f'{result["dtype"]}, weights {mod["memory_format"]}',
        f'non-local blocks: {mod["nonlocal_blocks"]} '
        f'({names}), built with attention='
        f'{"/".join(mod["built_with_attention"])}; '
        f'NonLocal3d default: {mod["default_attention"]}',
        f'inference: test_step of 1 view {view}, eval, no_grad; '
        f'train: train_step (forward, loss, backward, clip, SGD) of batch '
        f'{st["batch"]} x {view}',
        f'warmup {st["warmup"]} per form, median of {st["repeats"]} '
        'alternating calls per form',
        f'memory: peak extra MiB of one call ({result["memory_kind"]})',
    ]
    header = (f'{"phase":<10} {"matmul ms":>10} {"sdpa ms":>10} '
              f'{"matmul/sdpa":>11} {"matmul MiB":>10} {"sdpa MiB":>9} '
              f'{"matmul/sdpa":>11}')
    lines += [header, '-' * len(header)]
    for phase in PHASES:
        r = result[phase]
        lines.append(
            f'{phase:<10} {fmt_ms(r["ms"]["matmul"]):>10} '
            f'{fmt_ms(r["ms"]["sdpa"]):>10} {fmt_ratio(r["ratio"]):>11} '
            f'{fmt_mib(r["memory_mib"]["matmul"]):>10} '
            f'{fmt_mib(r["memory_mib"]["sdpa"]):>9} '
            f'{fmt_ratio(r["memory_ratio"]):>11}')
    err, floor, lim = (agr[k] for k in ('relative_errors', 'float32_floor',
                                        'limits'))
    lines.append(
        'agreement, relative error sdpa vs matmul: eval logits '
        f'{err["eval_logits"]:.1e} (< {lim["eval_logits"]:.0e}); training, '
        'with the float32 floor (matmul, input moved by one ulp) and limit '
        f'max({agr["tolerance"]:.0e}, {agr["floor_factor"]} x floor):')
    lines.append('  ' + '; '.join(
        f'{name.replace("train_", "")} {err[name]:.1e} (floor '
        f'{floor[name]:.1e}, < {lim[name]:.1e})' for name in floor) +
        f' -> {"ok" if agr["agree"] else "FAILED"}')
    kernels = agr['attention_kernels']
    lines.append(
        'attention kernels seen: matmul: '
        f'{", ".join(kernels["matmul"]) or "none (explicit matmul/softmax)"}'
        f'; sdpa: {", ".join(kernels["sdpa"]) or "none (math fallback)"}'
        + ('' if agr['kernels_as_expected'] else '  <- UNEXPECTED'))
    lines.append(f'total {result["total_s"]:.0f} s; ratios are matmul / sdpa '
                 '(> 1: sdpa is faster / smaller)')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.e2e_memory_worker:
        return e2e_memory_worker(args.e2e_memory_worker)
    settings = E2ESettings(
        config=args.config,
        cfg_options=args.cfg_options,
        device=args.device,
        frames=args.frames,
        size=args.size,
        batch=args.batch,
        warmup=args.warmup,
        repeats=args.repeats,
        threads=args.threads,
        memory=args.memory)
    result = run_end_to_end(settings)
    print(format_end_to_end(result))
    write_json(args.json, result)
    if not result['agreement']['agree']:
        sys.exit('the two attention forms disagree beyond '
                 f'{TOLERANCE:.0e} (see above)')


if __name__ == '__main__':
    main()

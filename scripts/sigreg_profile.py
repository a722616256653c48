"""Where SIGReg's forward + backward time goes, piece by piece (issue 16).

    .venv/bin/python scripts/sigreg_profile.py [--threads T] [--clock thread|wall]
        [--rounds R] [--out FILE]        # writes FILE.json and FILE.txt (results/bench/)

At batch x N in {256 x 8, 256 x 256, 1024 x 256} (one view, 256 slices, 17 knots), timed in
interleaved rounds like ``pycheck bench`` (median per piece, ratios within a round):

* ``reference``, ``floor``, ``compiled``: as in ``pycheck bench`` (LeJEPA's computation;
  projection + one cos and sin per sample and slice + the projection's backward matmul,
  no autograd; our default kernel, forward + backward through autograd);
* ``projection_autograd``: the projection ``y = a.T @ h.T`` with autograd, ``y.sum()``
  and its backward: what any autograd implementation pays besides the statistic;
* ``empty_compiled``: the same with an :class:`torch.autograd.Function` whose forward and
  backward each call one trivial compiled function in place of the kernels: the fixed cost
  of our design (autograd node, two compiled calls and their guards) without their work;
* ``fwd_kernel`` / ``bwd_kernel``: the two compiled kernels alone (no autograd), at 17
  knots and at 2 knots (one cos/sin pair, one harmonic): the difference is the harmonic
  accumulation, ``B x S x 16`` complex multiply-adds the floor does not count;
* ``sincos``: ``torch.cos`` and ``torch.sin`` of the projections (the floor's part);
* ``compiled_serial``: ``compiled`` with the kernels compiled as before issue 16's fix (on
  a 2 x 3 probe, thread count fixed at compile time: inductor then made no loop parallel).

``--clock thread`` (with ``--threads 1``) times by this thread's CPU time, which leaves out
the time the scheduler gives other jobs on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

from pycheck import bench
from pycheck.objectives import SIGReg, _fused_kernels, _FusedECF

SHAPES = ((256, 8), (256, 256), (1024, 256))


class _Empty(torch.autograd.Function):
    """The kernels' autograd wrapper with trivial compiled bodies: fixed cost only."""

    @staticmethod
    def forward(ctx, y, fns):
        ctx.bwd = fns[1]
        ctx.save_for_backward(y)
        return fns[0](y)

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return ctx.bwd(y, grad), None


def _trivial():
    fwd = torch.compile(lambda y: y.sum(-1), dynamic=True, fullgraph=True)
    bwd = torch.compile(lambda y, g: g.unsqueeze(-1).expand_as(y).clone(), dynamic=True,
                        fullgraph=True)
    return fwd, bwd


def _serial_kernels():
    """The kernels as compiled before (2 x 3 probe, default threading): serial loops."""
    from pycheck.objectives import _ecf_mean_backward, _ecf_mean_forward
    fwd, bwd = (torch.compile(f, dynamic=True, fullgraph=True)
                for f in (_ecf_mean_forward, _ecf_mean_backward))
    probe = torch.linspace(-1, 1, 6).reshape(2, 3).requires_grad_()
    ones = torch.ones(17)
    with torch.no_grad():
        out = fwd(probe, 0.5, ones, ones)
        bwd(*out[:4], ones, torch.ones_like(out[-1]), 0.5)
    return fwd, bwd


def _pieces(batch: int, n: int, trivial, serial) -> dict:
    """Closures timing each piece at ``batch x n``."""
    g = torch.Generator().manual_seed(batch + n)
    h = torch.randn(batch, n, generator=g).requires_grad_()
    a = SIGReg().directions(n)
    base = bench._sigreg_fns(h, a, fused=True)
    y = (a.T @ h.detach().T).contiguous()
    t0 = 3.0 / 16
    fns = dict(reference=base["reference"], floor=base["floor"], compiled=base["compiled"])
    fns["projection_autograd"] = lambda: (a.T @ h.T.contiguous()).sum().backward()
    fns["empty_compiled"] = lambda: _Empty.apply(a.T @ h.T.contiguous(), trivial).mean().backward()
    for k in (17, 2):
        fwd, bwd = _fused_kernels(y, k)
        phi, w = torch.ones(k), torch.ones(k)
        with torch.no_grad():
            saved = fwd(y, t0, phi, w)
        ones = torch.ones_like(saved[-1])
        fns[f"fwd_kernel_K{k}"] = torch.no_grad()(lambda fwd=fwd, phi=phi, w=w: fwd(y, t0, phi, w))
        fns[f"bwd_kernel_K{k}"] = torch.no_grad()(
            lambda bwd=bwd, s=saved, w=w: bwd(*s[:4], w, ones, t0))
    fns["sincos"] = lambda: (torch.cos(y), torch.sin(y))
    mod = SIGReg()
    phi, w = mod.phi.float(), mod.weights.float()

    def compiled_serial():
        ys = a.T @ h.T.contiguous()
        _FusedECF.apply(ys, t0, phi, w, serial).mean().backward()
    fns["compiled_serial"] = compiled_serial
    return fns


def profile(rounds: int) -> list[dict]:
    trivial, serial = _trivial(), _serial_kernels()
    rows = []
    for batch, n in SHAPES:
        fns = _pieces(batch, n, trivial, serial)
        times = bench.interleaved(fns, rounds, min_seconds=0.1, min_reps=3,
                                  warmup_seconds=0.02)
        row = dict(batch=batch, N=n, **{f"{k}_us": 1e6 * float(np.median(v))
                                        for k, v in times.items()})
        row["compiled_over_floor"] = bench._ratio(times["compiled"], times["floor"])
        row["reference_over_compiled"] = bench._ratio(times["reference"], times["compiled"])
        row["compiled_over_serial"] = bench._ratio(times["compiled"], times["compiled_serial"])
        rows.append(row)
        print(json.dumps({k: (round(v) if isinstance(v, float) else v) for k, v in row.items()}),
              file=sys.stderr, flush=True)
    return rows


def _table(res: dict) -> str:
    keys = [k[:-3] for k in res["rows"][0] if k.endswith("_us")]
    lines = [f"SIGReg pieces, us per call (median of {res['rounds']} interleaved rounds); "
             f"{res['threads']} thread(s), {res['clock']} clock, load {res['load']:.1f}",
             f"{'piece':<24}" + "".join(f"{r['batch']:>12}x{r['N']:<5}" for r in res["rows"])]
    for k in keys:
        lines.append(f"{k:<24}" + "".join(f"{r[k + '_us']:>18.0f}" for r in res["rows"]))
    for k in ("compiled_over_floor", "reference_over_compiled", "compiled_over_serial"):
        lines.append(f"{k:<24}" + "".join(
            f"{r[k]['median']:.2f} ({r[k]['min']:.2f}-{r[k]['max']:.2f})".rjust(18)
            for r in res["rows"]))
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--clock", choices=("thread", "wall"), default="thread")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--out", default="results/bench/sigreg_profile")
    args = p.parse_args()
    if args.clock == "thread" and args.threads != 1:
        p.error("--clock thread needs --threads 1 (other threads' work is not on this clock)")
    torch.set_num_threads(args.threads)
    bench._CLOCK = time.thread_time if args.clock == "thread" else time.perf_counter
    load = os.getloadavg()[0]
    res = dict(threads=args.threads, clock=args.clock, rounds=args.rounds, load=load,
               rows=profile(args.rounds))
    with open(args.out + ".json", "w") as f:
        json.dump(res, f, indent=1)
    with open(args.out + ".txt", "w") as f:
        f.write(_table(res))
    print(_table(res), end="")


if __name__ == "__main__":
    main()

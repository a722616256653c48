"""Training step at N = 8 / 64 / 256 (``pycheck.bench._step_setup``, batch 2 x 512, 2
threads, glibc malloc as in the workers) with the RealNVP encoder's couplings three ways,
interleaved in one process: ``autograd`` (session 39's ``_Coupling.transform``: the net's
modules, then the tail under plain autograd), ``torch`` (the net's modules, then
:class:`pycheck.encoders._CouplingTail` in torch operations: the path float64 and torch.func
take) and ``cpp`` (:class:`pycheck.encoders._CouplingFn` with :mod:`pycheck.coupling_cpp`,
session 40's default on CPU in float32). Everything else in the step (addmm biases, unbind
views, SIGReg's node) is the current code in all three.

    .venv/bin/python scripts/coupling_tail_probe.py [--rounds 15] [--seconds 0.15] [--dims 256]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from pycheck import bench, coupling_cpp, encoders
from pycheck.train import keep_freed_memory


def _autograd_transform(self, x_c, x_o):
    s, t = self.net(x_c).chunk(2, dim=-1)
    if self.log_bound is None:
        s = self.max_log_scale * torch.tanh(s / self.max_log_scale)
    else:
        c = self.log_bound.exp()
        s = c * torch.tanh(s / c)
    return x_o * torch.exp(s) + t


_NEW, _APPLIES = encoders._Coupling.transform, coupling_cpp.applies


def _use(variant: str) -> None:
    encoders._Coupling.transform = _autograd_transform if variant == "autograd" else _NEW
    coupling_cpp.applies = (lambda *a: False) if variant == "torch" else _APPLIES


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--seconds", type=float, default=0.15)
    ap.add_argument("--dims", type=int, nargs="+", default=[8, 64, 256])
    ap.add_argument("--objectives", nargs="+", default=list(bench.OBJECTIVES))
    a = ap.parse_args()
    torch.set_num_threads(2)
    keep_freed_memory()
    variants = ("autograd", "torch", "cpp")
    print(f"host: {torch.backends.cpu.get_cpu_capability()}, median ms per step over "
          f"{a.rounds} interleaved rounds of {a.seconds} s (min-max)")
    for n in a.dims:
        for obj in a.objectives:
            steps = {}
            for v in variants:
                _use(v)
                steps[v] = bench._step_setup(obj, n, 512, "cpu")[0]
            times = {v: [] for v in variants}
            for _ in range(a.rounds):
                for v in variants:
                    _use(v)
                    times[v].append(bench._timeit(steps[v], min_seconds=a.seconds,
                                                  warmup_seconds=0.03))
            _use("cpp")
            med = {v: 1e3 * float(np.median(t)) for v, t in times.items()}
            print(f"N={n:4d} {obj:8s} " + "  ".join(
                f"{v} {med[v]:6.2f} ({1e3 * min(times[v]):.2f}-{1e3 * max(times[v]):.2f})"
                for v in variants) + f"  cpp/autograd {med['cpp'] / med['autograd']:.3f}"
                f"  torch/autograd {med['torch'] / med['autograd']:.3f}", flush=True)


if __name__ == "__main__":
    main()

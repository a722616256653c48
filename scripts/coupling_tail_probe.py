"""Training step at N = 8 / 64 / 256 (``pycheck.bench._step_setup``, batch 2 x 512, 2
threads, glibc malloc as in the workers) with the RealNVP encoder's couplings two ways,
interleaved in one process: ``autograd`` (the net's modules, then the tail as torch operations
under autograd: session 39's couplings, and the path float64, CUDA and torch.func take) and
``cpp`` (:class:`pycheck.encoders._CouplingFn` with :mod:`pycheck.coupling_cpp`, session 40's
default on CPU in float32). Everything else in the step (addmm biases, unbind views, SIGReg's
node) is the current code in both. ``results/bench/coupling_tail_s40.txt`` was made before
the review of session 40 with a third column, ``torch``: a hand-written torch backward of the
tail, since removed (0.96-0.99x of ``autograd`` at N = 256, 0.98-1.04x at N = 8).

    .venv/bin/python scripts/coupling_tail_probe.py [--rounds 15] [--seconds 0.15] [--dims 256]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from pycheck import bench, coupling_cpp
from pycheck.train import keep_freed_memory


_APPLIES = coupling_cpp.applies


def _use(variant: str) -> None:
    coupling_cpp.applies = (lambda *a: False) if variant == "autograd" else _APPLIES


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--seconds", type=float, default=0.15)
    ap.add_argument("--dims", type=int, nargs="+", default=[8, 64, 256])
    ap.add_argument("--objectives", nargs="+", default=list(bench.OBJECTIVES))
    a = ap.parse_args()
    torch.set_num_threads(2)
    keep_freed_memory()
    variants = ("autograd", "cpp")
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
                for v in variants) + f"  cpp/autograd {med['cpp'] / med['autograd']:.3f}",
                flush=True)


if __name__ == "__main__":
    main()

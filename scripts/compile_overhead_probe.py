"""Probe (issue 16, session 21): what bounds SIGReg's speed at small sizes?

At 256 x 8 the bench's floor is ~0.2 ms and our compiled SIGReg forward + backward ~1 ms;
at 16 x 8 (almost no arithmetic) it still takes ~0.6 ms. This measures, on this machine,
2 torch threads:
  1. the per-call cost of a trivial torch.compile'd function ((y * t0).sum() on 8 x 16),
     dynamic and static shapes, against the same function eager;
  2. SIGReg's two compiled kernels (pycheck.objectives._fused_kernels: forward, backward)
     alone, at G slices x B samples from 8 x 16 to 256 x 1024;
  3. the forward kernel compiled with inductor's C++ wrapper (options cpp_wrapper=True)
     instead of its Python wrapper.
Usage: python scripts/compile_overhead_probe.py   (output of session 21:
results/bench/compile_overhead_s21.txt)
"""
import time

import torch

import pycheck.objectives as O

torch.set_num_threads(2)
SIZES = [(8, 16), (256, 16), (256, 256), (256, 1024)]


def per_call_us(fn, *args, reps=500):
    with torch.no_grad():
        for _ in range(20):
            fn(*args)
        t0 = time.perf_counter()
        for _ in range(reps):
            fn(*args)
    return (time.perf_counter() - t0) / reps * 1e6


def trivial(y, t0: float):
    return (y * t0).sum()


def main():
    y = torch.randn(8, 16)
    print("1. trivial function (y * t0).sum(), 8 x 16, us per call:")
    print(f"   eager {per_call_us(trivial, y, 0.5):.0f}")
    for dyn in (False, True):
        g = torch.compile(trivial, dynamic=dyn, fullgraph=True)
        print(f"   compiled, dynamic={dyn}: {per_call_us(g, y, 0.5):.0f}")
    fwd, bwd = O._fused_kernels(torch.zeros(1), 17)
    fwd_cpp = torch.compile(O._ecf_mean_forward, dynamic=True, fullgraph=True,
                            options={"cpp.dynamic_threads": True, "cpp_wrapper": True})
    phi = torch.ones(17, dtype=torch.float64)
    w = torch.ones(17, dtype=torch.float64)
    print("2./3. SIGReg's compiled kernels, 17 knots, us per call (G slices x B samples):")
    for G, B in SIZES:
        yy = torch.randn(G, B).requires_grad_()
        with torch.no_grad():
            c, s, dc, sm, st = fwd(yy, 0.5, phi, w)
        g = torch.ones_like(st)
        print(f"   {G:4d} x {B:5d}: forward {per_call_us(fwd, yy, 0.5, phi, w):6.0f}"
              f"  backward {per_call_us(bwd, c, s, dc, sm, w, g, 0.5):6.0f}"
              f"  forward with the C++ wrapper {per_call_us(fwd_cpp, yy, 0.5, phi, w):6.0f}")


if __name__ == "__main__":
    main()

"""What session 49's per-call checks cost SIGReg (autocast, torch.distributed, torch.func):
one SIGReg forward + backward at 256 x 8 (the smallest bench size, where a fixed cost shows
most), with the checks as shipped and stubbed out, interleaved in one process, 2 threads.

    .venv/bin/python scripts/sigreg_checks_overhead.py > results/bench/sigreg_checks_overhead_s49.txt
"""
import timeit

import numpy as np
import torch

import pycheck.objectives as O


def main() -> None:
    torch.set_num_threads(2)
    for name in ("_autocast_on", "_world_size", "_functorch_active"):
        fn = getattr(O, name)
        arg = ("cpu",) if name == "_autocast_on" else ()
        us = timeit.timeit(lambda: fn(*arg), number=100000) * 10
        print(f"{name}: {us:.2f} us per call")
    h = torch.randn(256, 8, requires_grad=True)
    mod = O.SIGReg()

    def call():
        torch.autograd.grad(mod(h), h)
    shipped = (O._autocast_on, O._world_size, O._functorch_active)
    stubs = (lambda d: False, lambda: 1, lambda: False)

    def use(fns):
        O._autocast_on, O._world_size, O._functorch_active = fns
    for _ in range(200):
        call()
    res = {"with the checks": [], "checks stubbed out": []}
    for _ in range(15):
        for key, fns in (("with the checks", shipped), ("checks stubbed out", stubs)):
            use(fns)
            res[key].append(timeit.timeit(call, number=300) / 300 * 1e6)
    use(shipped)
    for key, v in res.items():
        print(f"SIGReg forward + backward, 256 x 8, {key}: median {np.median(v):.1f} us "
              f"(min {min(v):.1f}, max {max(v):.1f}) over 15 interleaved rounds of 300 calls")


if __name__ == "__main__":
    main()

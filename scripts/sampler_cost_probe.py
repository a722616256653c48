"""What the scaling experiment's fresh-pair sampler costs per training step (session 31).

The quick profile draws fresh antithetic quasi-Monte Carlo pairs at every step
(pycheck.experiments._common._pair_sampler): the next Sobol points in 2N dimensions, the
normal quantile (scipy's ndtri), then the RealNVP mixing in float32 of the states and of
their two next states. This times each part and the whole sampler, one thread, mean of 200
calls after one warm-up call, at the quick profile's batch of 1024.

Usage: OMP_NUM_THREADS=1 python scripts/sampler_cost_probe.py  (nothing else running)
"""
import time

import numpy as np
from scipy.special import ndtri
from scipy.stats import qmc

from pycheck.experiments import _common
from pycheck.mixings import make_mixing


def ms(f, reps=200):
    f()
    t0 = time.perf_counter()
    for _ in range(reps):
        f()
    return (time.perf_counter() - t0) / reps * 1e3


def main():
    batch, rho = 1024, 0.8
    print(f"batch {batch}, one thread, mean ms per call over 200 calls")
    for n in (8, 32, 64):
        k = batch // 2                      # antithetic: ceil(batch / 2) states per step
        engine = qmc.Sobol(2 * n, scramble=True, rng=np.random.default_rng(0))
        u = engine.random(k)
        g = make_mixing("realnvp", n, 0)
        z = np.random.default_rng(1).standard_normal((k, n))
        z_next = np.random.default_rng(2).standard_normal((batch, n))
        sample = _common._pair_sampler(g, n, 0, rho, antithetic=True, qmc=True)
        parts = dict(sobol=ms(lambda: engine.random(k)),
                     ndtri=ms(lambda: ndtri(np.clip(u, 1e-16, 1 - 1e-16))),
                     mix_states=ms(lambda: g.forward(z, np.float32)),
                     mix_next=ms(lambda: g.forward(z_next, np.float32)),
                     whole_sampler=ms(lambda: sample(batch)))
        print(f"N = {n:3d}: " + ", ".join(f"{key} {v:.3f}" for key, v in parts.items()))


if __name__ == "__main__":
    main()

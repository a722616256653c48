"""What the scaling experiment's fresh-pair sampler costs (session 31).

The quick profile draws fresh antithetic quasi-Monte Carlo pairs at every step
(pycheck.experiments._common._pair_sampler; the supervised ceiling _latent_sampler): the next
Sobol points in 2N dimensions, the normal quantile (scipy's ndtri), then the RealNVP mixing in
float32. Part 1 times each part at N = 8, 32, 64 and batch 1024. Part 2 builds, for every run
of a finished scaling folder, the very sampler that run used (its objective, N, seed, batch),
times it, and multiplies by the run's steps: the sampler's share of the profile's training
seconds. Part 3: is torch's ndtri (also a port of Cephes') a bit-identical, faster stand-in for
scipy's? One thread; each time is pycheck.bench's median per call after a warm-up.

Usage: OMP_NUM_THREADS=1 python scripts/sampler_cost_probe.py [RUN_FOLDER]
       (default results/scaling-s31; nothing else running)
"""
import json
import sys
from pathlib import Path

import numpy as np
from scipy.special import ndtri
from scipy.stats import qmc

from pycheck import bench
from pycheck.experiments import _common
from pycheck.mixings import make_mixing

def ms(f) -> float:
    """Median ms per call, with pycheck.bench's timer (0.3 s of warm-up, then >= 0.5 s)."""
    return bench._timeit(f) * 1e3


def parts(rho: float):
    batch = 1024
    print(f"part 1: batch {batch}, one thread, median ms per call")
    for n in (8, 32, 64):
        k = batch // 2                      # antithetic: ceil(batch / 2) states per step
        engine = qmc.Sobol(2 * n, scramble=True, rng=np.random.default_rng(0))
        u = engine.random(k)
        g = make_mixing("realnvp", n, 0)
        z = np.random.default_rng(1).standard_normal((k, n))
        z_next = np.random.default_rng(2).standard_normal((batch, n))
        sample = _common._pair_sampler(g, n, 0, rho, antithetic=True, qmc=True)
        t = dict(sobol=ms(lambda: engine.random(k)),
                 ndtri=ms(lambda: ndtri(np.clip(u, 1e-16, 1 - 1e-16))),
                 mix_states=ms(lambda: g.forward(z, np.float32)),
                 mix_next=ms(lambda: g.forward(z_next, np.float32)),
                 whole_sampler=ms(lambda: sample(batch)))
        print(f"N = {n:3d}: " + ", ".join(f"{key} {v:.3f}" for key, v in t.items()))


def per_run(folder: Path, cfg: dict):
    print(f"\npart 2: every run of {folder}, its own sampler; ms per step x steps")
    total_sampler = total_train = 0.0
    for f in sorted(folder.glob("runs/*-seed*.json")):
        r = json.loads(f.read_text())
        n, seed, batch = r["n"], r["seed"], r["batch_size"]
        g = make_mixing(r["mixing"], n, seed)
        if r["objective"] == "supervised":
            sample = _common._latent_sampler(g, n, seed, cfg["rho"], cfg["qmc"])
        else:
            sample = _common._pair_sampler(g, n, seed, cfg["rho"], cfg["antithetic"],
                                           cfg["qmc"])
        step_ms = ms(lambda: sample(batch))
        secs = step_ms * r["steps"] / 1e3
        total_sampler += secs
        total_train += r["train_seconds"]
        print(f"{f.stem:32s} {r['steps']:6d} x {batch:5d}: {step_ms:.3f} ms/step, "
              f"{secs:6.1f} s of {r['train_seconds']:6.1f} s training")
    print(f"all runs: sampler {total_sampler:.0f} s of {total_train:.0f} s training "
          f"({total_sampler / total_train:.1%}); over 2 workers about {total_sampler / 2:.0f} s "
          f"of wall time")


def torch_ndtri():
    import torch
    torch.set_num_threads(1)
    tiny = np.finfo(np.float64).eps
    u = np.clip(qmc.Sobol(128, scramble=True, rng=np.random.default_rng(0)).random(2 ** 16 * 2),
                tiny, 1 - tiny)
    a, b = ndtri(u), torch.special.ndtri(torch.from_numpy(u)).numpy()
    x = u[:512].copy()
    xt = torch.from_numpy(x)
    print(f"\npart 3: torch.special.ndtri against scipy's, {u.size} points of a Sobol sequence "
          f"in 128 dimensions: {np.count_nonzero(a != b)} differ (largest "
          f"{np.max(np.abs(a - b)):.1e}); 512 x 128 per call: scipy {ms(lambda: ndtri(x)):.3f} "
          f"ms, torch {ms(lambda: torch.special.ndtri(xt)):.3f} ms")


def main():
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "results/scaling-s31")
    cfg = json.loads((folder / "runs" / "config.json").read_text())
    parts(cfg["rho"])
    per_run(folder, cfg)
    torch_ndtri()


if __name__ == "__main__":
    main()

"""What the learned log-scale bound costs per training step (session 32).

The scaling experiment's training step (pycheck.bench._step_setup: the matched RealNVP
encoder, the objective, Adam, clipping, the weight average) with the encoder's learned bound
(learn_bound=True, the default since session 32) and with the constant bound, timed in
interleaved rounds in one process (pycheck.bench._timeit's median per step), one thread, at the
quick profile's batches. Prints the median ratio learned / constant and its spread over rounds.

Usage: python scripts/learned_bound_step_cost.py [ROUNDS]   (nothing else running)
"""
import sys

import numpy as np
import torch

from pycheck import bench

CASES = [("vicreg", 2, 1024), ("vicreg", 8, 1024), ("vicreg", 32, 1024), ("vicreg", 64, 1024),
         ("sigreg", 8, 1024), ("sigreg", 64, 1024)]


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.set_num_threads(1)
    print(f"one thread, {rounds} interleaved rounds, median ms per step (min-max over rounds)")
    for obj, n, batch in CASES:
        steps = {lb: bench._step_setup(obj, n, batch, "cpu", learn_bound=lb)[0]
                 for lb in (False, True)}
        t = {lb: [] for lb in steps}
        for _ in range(rounds):
            for lb, fn in steps.items():
                t[lb].append(bench._timeit(fn) * 1e3)
        ratio = np.array(t[True]) / np.array(t[False])
        print(f"{obj} N = {n:3d}, batch {batch}: constant {np.median(t[False]):.2f} ms, "
              f"learned {np.median(t[True]):.2f} ms, ratio {np.median(ratio):.3f} "
              f"({ratio.min():.3f}-{ratio.max():.3f})")


if __name__ == "__main__":
    main()

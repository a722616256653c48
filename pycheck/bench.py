"""``pycheck bench``: training throughput, matmul efficiency, and SIGReg speed.

Measured in one run on this machine:

1. dense ``torch.matmul`` FLOP/s (float32, square matrices) -- the machine's ceiling;
2. per objective and latent dimension N: training throughput in pairs/s (the
   ``fit_encoder`` loop with the RealNVP encoder and mixing of the scaling experiment),
   the step's matmul FLOPs (counted by ``torch.utils.flop_counter``) and the fraction of
   the matmul ceiling a step reaches;
3. SIGReg: LeJEPA's reference computation (:func:`reference_sigreg`, which evaluates a
   cos and a sin at every knot for every sample and slice) against ours
   (:class:`pycheck.objectives.SIGReg`), forward + backward, same directions: agreement,
   speed-up, and SIGReg's share of a training step.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from .objectives import OBJECTIVES, SIGReg, _trapezoid_gauss_weights


def reference_sigreg(h: torch.Tensor, directions: torch.Tensor, num_knots: int = 17,
                     t_max: float = 3.0) -> torch.Tensor:
    """LeJEPA's SIGReg as published (``rbalestr-lab/lejepa``, MINIMAL.md), given directions.

    ``h``: ``(..., B, n)``; ``directions``: ``(n, S)`` unit columns. Builds the full
    ``(..., B, S, K)`` tensor of ``t_k * y`` and takes its cos and sin.
    """
    t, phi, weights = (v.to(h.dtype) for v in _trapezoid_gauss_weights(num_knots, t_max))
    x_t = (h @ directions).unsqueeze(-1) * t
    err = (x_t.cos().mean(-3) - phi).square() + x_t.sin().mean(-3).square()
    return ((err @ weights) * h.size(-2)).mean()


def _timeit(fn, min_seconds: float = 0.5, min_reps: int = 3, warmup_seconds: float = 0.3) -> float:
    """Median seconds per call, after warming up for ``warmup_seconds`` (at least one call).

    One warm-up call was not enough: whichever configuration was timed first came out
    ~2x slower (thread-pool and allocator start-up), whatever its size."""
    t_end = time.perf_counter() + warmup_seconds
    fn()
    while time.perf_counter() < t_end:
        fn()
    times, t_end = [], time.perf_counter() + min_seconds
    while len(times) < min_reps or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def matmul_flops(size: int = 1024, device="cpu") -> float:
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    return 2 * size ** 3 / _timeit(lambda: a @ b)


def _step_setup(objective: str, n: int, batch: int, seed: int = 0):
    """One training step of the scaling experiment's configuration, as a closure."""
    from .encoders import RealNVPEncoder, Standardized
    from .mixings import make_mixing
    from .objectives import make_objective
    from .worlds import gaussian_ou_pairs
    rng = np.random.default_rng(seed)
    z, zn = gaussian_ou_pairs(batch, n, 0.5, rng)
    g = make_mixing("realnvp", n, seed)
    x = torch.from_numpy(np.stack([g.forward(z), g.forward(zn)])).float().reshape(2 * batch, n)
    model = Standardized.fit(RealNVPEncoder(n, seed=seed), x, "diag")
    xs = model.standardize(x)     # fit_encoder standardises once, in float64, before training
    loss_fn = make_objective(objective)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        h = model.encoder(xs)
        loss, _ = loss_fn(h[:batch], h[batch:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def flops():
        from torch.utils.flop_counter import FlopCounterMode
        with FlopCounterMode(display=False) as fc:
            step()
        return fc.get_total_flops()
    return step, flops


def run(dims=(8, 64, 256), batch: int = 512, slices: int = 256, rounds: int = 7) -> dict:
    peak = matmul_flops()
    rows = []
    for n in dims:
        for obj in OBJECTIVES:
            step, flops = _step_setup(obj, n, batch)
            secs = _timeit(step)
            f = flops()
            rows.append(dict(objective=obj, N=n, batch=batch, step_ms=1e3 * secs,
                             pairs_per_s=batch / secs, step_gflop=f / 1e9,
                             matmul_fraction=f / secs / peak))
    sig = []
    mod = SIGReg(num_slices=slices)
    for n in dims:
        h = torch.randn(2, batch, n, requires_grad=True)
        a = mod.directions(n)

        def ours():
            mod.statistic(h, a).backward()

        def ref():
            reference_sigreg(h, a).backward()
        # Interleaved rounds (ours, ref, ours, ref, ...): the machine's speed drifts (shared
        # cores, allocator and thread-pool warm-up made whichever kernel ran first after a
        # size change up to 2x slower), so both sides of a ratio are timed back to back and
        # the speed-up is the median of the per-round ratios.
        _timeit(ours, min_seconds=0.5, warmup_seconds=0.5)
        t_ours, t_ref = [], []
        for _ in range(rounds):
            t_ours.append(_timeit(ours, min_seconds=0.2, warmup_seconds=0.05))
            t_ref.append(_timeit(ref, min_seconds=0.2, warmup_seconds=0.05))
        ratios = np.array(t_ref) / np.array(t_ours)
        with torch.no_grad():
            s_ours, s_ref = mod.statistic(h, a).item(), reference_sigreg(h, a).item()
        ours_ms = 1e3 * float(np.median(t_ours))
        step_ms = next(r["step_ms"] for r in rows if r["N"] == n and r["objective"] == "sigreg")
        sig.append(dict(N=n, batch=batch, slices=slices, rounds=rounds, ours_ms=ours_ms,
                        reference_ms=1e3 * float(np.median(t_ref)),
                        speedup=float(np.median(ratios)), speedup_min=float(ratios.min()),
                        speedup_max=float(ratios.max()),
                        rel_diff=abs(s_ours - s_ref) / abs(s_ref),
                        share_of_step=ours_ms / step_ms))
    return dict(threads=torch.get_num_threads(), matmul_gflops=peak / 1e9,
                training=rows, sigreg=sig)


def _print(res: dict) -> None:
    print(f"dense matmul (float32 1024^2, {res['threads']} threads): "
          f"{res['matmul_gflops']:.1f} GFLOP/s\n")
    print(f"{'objective':<9} {'N':>5} {'step ms':>8} {'pairs/s':>9} {'GFLOP/step':>10} "
          f"{'matmul frac':>11}")
    for r in res["training"]:
        print(f"{r['objective']:<9} {r['N']:>5} {r['step_ms']:>8.1f} {r['pairs_per_s']:>9.0f} "
              f"{r['step_gflop']:>10.3f} {r['matmul_fraction']:>11.3f}")
    print(f"\nSIGReg forward+backward, batch 2x{res['sigreg'][0]['batch']}, "
          f"{res['sigreg'][0]['slices']} slices, 17 knots")
    print(f"{'N':>5} {'ours ms':>8} {'LeJEPA ref ms':>13} {'speed-up':>8} {'(min-max)':>11} "
          f"{'rel diff':>9} {'share of step':>13}")
    for r in res["sigreg"]:
        print(f"{r['N']:>5} {r['ours_ms']:>8.2f} {r['reference_ms']:>13.2f} {r['speedup']:>7.1f}x "
              f"{r['speedup_min']:>5.1f}-{r['speedup_max']:<5.1f} {r['rel_diff']:>9.1e} "
              f"{r['share_of_step']:>13.2f}")
    print(f"(speed-up: median over {res['sigreg'][0]['rounds']} interleaved rounds, min-max in "
          "brackets)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="pycheck bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--dims", type=int, nargs="+", default=[8, 64, 256])
    p.add_argument("--batch", type=int, default=512, help="pairs per training step")
    p.add_argument("--threads", type=int, default=None,
                   help=f"torch threads (default: torch's, here {torch.get_num_threads()})")
    p.add_argument("--rounds", type=int, default=7,
                   help="interleaved ours/reference rounds for the SIGReg speed-up")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = p.parse_args(argv)
    if any(d < 2 for d in args.dims) or args.batch < 2 or args.rounds < 1:
        p.error("--dims must be >= 2, --batch >= 2 and --rounds >= 1")
    if args.threads:
        torch.set_num_threads(min(args.threads, os.cpu_count() or 1))
    res = run(tuple(args.dims), args.batch, rounds=args.rounds)
    _print(res)
    if args.json:
        from .store import write_json
        write_json(args.json, res)
    return 0

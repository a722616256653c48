"""``pycheck bench``: training throughput, matmul efficiency, and SIGReg speed.

Measured in one run on this machine (CUDA if present, else CPU):

1. dense ``torch.matmul`` FLOP/s (float32, square matrices) -- the machine's ceiling;
2. per objective and latent dimension N: training throughput in pairs/s (the
   ``fit_encoder`` loop with the RealNVP encoder and mixing of the scaling experiment),
   the step's matmul FLOPs (counted by ``torch.utils.flop_counter``), the fraction of
   the matmul ceiling a step reaches, the process CPU time per step and the load average
   (on shared cores, CPU time far above wall time x threads means threads spinning while
   a sibling thread waits for a core), and at every N the throughput of two runs in
   parallel with one thread each (how ``reproduce --jobs 2`` trains) and the fraction of
   the matmul ceiling the pair reaches;
3. SIGReg forward + backward at one and two views, several batch sizes and N, 256 slices,
   17 knots, same directions: LeJEPA's reference computation (:func:`reference_sigreg`, a
   cos and a sin at every knot for every sample and slice), our eager kernel, our compiled
   kernel (the default), and the floor (projection matmul forward and backward plus one
   cos and one sin per sample and slice), timed in interleaved rounds; agreement of
   statistic and gradient with the reference.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from .objectives import OBJECTIVES, SIGReg, _fused_kernels, compile_enabled


def reference_sigreg(h: torch.Tensor, directions: torch.Tensor, num_knots: int = 17,
                     t_max: float = 3.0, weight_dtype=torch.float32) -> torch.Tensor:
    """LeJEPA's SIGReg as its package computes it, given directions.

    Transcribes ``EppsPulley.forward`` of ``rbalestr-lab/lejepa``
    (``lejepa/univariate/epps_pulley.py``): knots, ``phi`` and the trapezoid weights are
    built there in ``weight_dtype`` (float32 in the package; float64 to compare at float64
    precision) and cast to ``h``'s dtype as ``module.to(dtype)`` would; the full
    ``(..., B, S, K)`` tensor of ``t_k * y`` is built and its cos and sin taken. Written
    independently of :mod:`pycheck.objectives` so that comparing the two also checks our
    quadrature weights. ``h``: ``(..., B, n)``; ``directions``: ``(n, S)`` unit columns.
    """
    t = torch.linspace(0, t_max, num_knots, dtype=weight_dtype)
    dt = t_max / (num_knots - 1)
    weights = torch.full((num_knots,), 2 * dt, dtype=weight_dtype)
    weights[[0, -1]] = dt
    phi = t.square().mul_(0.5).neg_().exp_()
    t, phi, weights = (v.to(h.device, h.dtype) for v in (t, phi, weights * phi))
    x_t = (h @ directions).unsqueeze(-1) * t
    err = (x_t.cos().mean(-3) - phi).square() + x_t.sin().mean(-3).square()
    return ((err @ weights) * h.size(-2)).mean()


# the timer: wall time, or with ``--cpu-clock`` (one thread) this thread's CPU time, which
# leaves out the time the scheduler gives to other jobs on a shared machine
_CLOCK = time.perf_counter


def _timeit(fn, min_seconds: float = 0.5, min_reps: int = 3, warmup_seconds: float = 0.3) -> float:
    """Median seconds per call, after warming up for ``warmup_seconds`` (at least one call).

    One warm-up call was not enough: whichever configuration was timed first came out
    ~2x slower (thread-pool and allocator start-up), whatever its size."""
    t_end = _CLOCK() + warmup_seconds
    fn()
    while _CLOCK() < t_end:
        fn()
    times, t_end = [], _CLOCK() + min_seconds
    while len(times) < min_reps or _CLOCK() < t_end:
        t0 = _CLOCK()
        fn()
        times.append(_CLOCK() - t0)
    return float(np.median(times))


def _synced(fn, device: torch.device):
    """``fn`` followed by a device synchronisation, so that GPU timings are complete."""
    if device.type != "cuda":
        return fn

    def run():
        fn()
        torch.cuda.synchronize(device)
    return run


def interleaved(fns: dict, rounds: int, **timeit_args) -> dict[str, list[float]]:
    """Seconds per call of each of ``fns`` (name -> callable), timed by :func:`_timeit` with
    ``timeit_args`` in ``rounds`` interleaved rounds (each function once per round, in
    order): the machine's speed drifts, so compare timings of the same rounds."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            times[k].append(_timeit(f, **timeit_args))
    return times


def matmul_flops(size: int = 1024, device="cpu", min_seconds: float = 0.5) -> float:
    """Dense float32 matmul rate (FLOP/s) of square ``size`` matrices: the ceiling."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    return 2 * size ** 3 / _timeit(_synced(lambda: a @ b, torch.device(device)), min_seconds)


def _step_setup(objective: str, n: int, batch: int, device, seed: int = 0,
                learn_bound: bool = True):
    """One training step of the scaling experiment's configuration, as a closure
    (``learn_bound``: the encoder's, :class:`pycheck.encoders.RealNVPEncoder`)."""
    from .encoders import RealNVPEncoder, Standardized
    from .mixings import make_mixing
    from .objectives import make_objective
    from .worlds import gaussian_ou_pairs
    rng = np.random.default_rng(seed)
    z, zn = gaussian_ou_pairs(batch, n, 0.5, rng)
    g = make_mixing("realnvp", n, seed)
    x = torch.from_numpy(np.stack([g.forward(z), g.forward(zn)])).float().reshape(2 * batch, n)
    model = Standardized.fit(RealNVPEncoder(n, seed=seed, learn_bound=learn_bound), x,
                             "diag").to(device)
    xs = model.standardize(x.to(device))  # fit_encoder standardises once, in float64, before training
    from .train import DEFAULT_EMA, optimiser, update
    loss_fn = make_objective(objective)
    # fit_encoder's step (train._train) in full: gradient clipping, the lr schedule (its
    # length only sets the lr's value, not the work) and the weights' moving average
    opt, sched, avg = optimiser(model.encoder, 1e-4, 10 ** 9, DEFAULT_EMA)

    def step():
        h = model.encoder(xs)
        loss, _ = loss_fn(*h.unflatten(0, (2, batch)).unbind(0))     # as train._train
        update(model.encoder, loss, opt, sched, avg)

    def flops():
        from torch.utils.flop_counter import FlopCounterMode

        from . import objectives
        # compiled code cannot run under a dispatch mode: count with the compiled kernels'
        # uncompiled source (the same operations, none of them a matmul)
        saved = dict(objectives._FUSED)
        uncompiled = (objectives._ecf_mean_forward, objectives._ecf_mean_backward)
        objectives._FUSED.update({k: uncompiled for k, v in saved.items() if v is not None})
        try:
            with FlopCounterMode(display=False) as fc:
                step()
        finally:
            objectives._FUSED.update(saved)
        return fc.get_total_flops()
    return _synced(step, torch.device(device)), flops


def _training(dims, batch: int, rounds: int, device) -> list[dict]:
    """Per objective and N: step time, pairs/s, CPU time and the fraction of the ceiling.

    The ceiling is re-measured in every round next to the step (shared cores: the rate
    of the machine drifts), and the fraction is the median of the per-round fractions."""
    rows = []
    for n in dims:
        for obj in OBJECTIVES:
            step, flops = _step_setup(obj, n, batch, device)
            f = flops()
            secs, fracs, cpu, wall = [], [], [], []
            load = os.getloadavg()[0]
            for _ in range(rounds):
                peak = matmul_flops(device=device, min_seconds=0.1)
                c0, w0 = time.process_time(), time.perf_counter()
                secs.append(_timeit(step, min_seconds=0.2, warmup_seconds=0.05))
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
                fracs.append(f / secs[-1] / peak)
            step_s = float(np.median(secs))
            rows.append(dict(objective=obj, N=n, batch=batch, step_ms=1e3 * step_s,
                             step_ms_min=1e3 * min(secs), step_ms_max=1e3 * max(secs),
                             cpu_per_wall=float(sum(cpu) / sum(wall)),
                             load_avg=load, pairs_per_s=batch / step_s, step_gflop=f / 1e9,
                             matmul_fraction=float(np.median(fracs)),
                             matmul_fraction_min=float(min(fracs)),
                             matmul_fraction_max=float(max(fracs))))
    return rows


_BARRIER = None  # set in each worker of _parallel_runs


def _set_barrier(barrier) -> None:
    global _BARRIER
    _BARRIER = barrier


def _parallel_worker(args) -> float:
    """Pairs/s of one training run with one thread (in a worker process).

    Both workers set up and warm up (SIGReg compiles here) before a barrier, so that the
    two timed windows overlap."""
    objective, n, batch, seconds = args
    from .train import set_threads
    set_threads(1)                       # as a training worker (one BLAS thread, malloc)
    step, _ = _step_setup(objective, n, batch, "cpu")
    for _ in range(3):
        step()
    _BARRIER.wait()
    t_end, count = time.perf_counter() + seconds, 0
    t0 = time.perf_counter()
    while time.perf_counter() < t_end:
        step()
        count += 1
    return batch * count / (time.perf_counter() - t0)


def _parallel_runs(n: int, batch: int, seconds: float = 3.0) -> list[dict]:
    """Two runs side by side, one thread each, against one run with the bench's threads.

    Stands in for batched multi-run training (not in the engine): what a second
    independent run recovers, at small N, where one run cannot keep two cores busy, and at
    large N, where one run's elementwise work scales worse over two threads than its
    matmuls (session 21, N = 256, batch 512: 0.52-0.66 of the ceiling for the pair against
    0.43-0.50 for one run on two threads). The experiments' ``--jobs 2`` trains this way."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context
    ctx = get_context("spawn")
    # tasks in pairs, one objective after the other: a worker blocked at the barrier
    # cannot take the next task, so each pair runs on the two workers
    with ProcessPoolExecutor(2, mp_context=ctx, initializer=_set_barrier,
                             initargs=(ctx.Barrier(2),)) as pool:
        rates = list(pool.map(_parallel_worker,
                              [(obj, n, batch, seconds) for obj in OBJECTIVES for _ in "ab"]))
    return [dict(objective=obj, N=n, batch=batch,
                 two_runs_pairs_per_s=rates[2 * i] + rates[2 * i + 1])
            for i, obj in enumerate(OBJECTIVES)]


def _sigreg_fns(h: torch.Tensor, a: torch.Tensor, fused: bool) -> dict:
    """Forward + backward closures: reference, ours (eager, compiled), floor.

    Forward + backward is ``torch.autograd.grad(statistic, h)``: the gradient with respect
    to the input, as the encoder's last layer receives it in training. Not
    ``statistic.backward()``: that also adds the gradient into the leaf ``h.grad``, which
    is no part of SIGReg and is the same work for every contender: at 1024 x 256 on one
    thread that add took 0.59 ms of our 5.4 ms per call (``torch.profiler``, session 9).
    The same change for all columns, reference included."""
    # the modules' knot buffers on h's device (on CUDA they stayed on the CPU and the bench
    # failed before its SIGReg table: session-45 CUDA review)
    eager, comp = SIGReg().to(h.device), SIGReg().to(h.device)
    eager.fused, comp.fused = False, True

    def grad(stat_fn):
        return lambda: torch.autograd.grad(stat_fn(h, a), h)
    h_t = h.detach().transpose(-1, -2)
    grad_y = torch.ones(a.shape[1], h.shape[-2], device=h.device)

    def floor():
        # the unavoidable work: the projection, one cos and one sin per sample and slice,
        # and the projection's backward matmul (a @ grad_y: the shape of dL/dh)
        y = a.T @ h_t
        torch.cos(y)
        torch.sin(y)
        a @ grad_y.expand_as(y)
    fns = {"reference": grad(reference_sigreg), "eager": grad(eager.statistic)}
    if fused:
        fns["compiled"] = grad(comp.statistic)
    fns["floor"] = floor
    return {k: _synced(f, h.device) for k, f in fns.items()}


def _agreement(h: torch.Tensor, a: torch.Tensor, fused: bool | None) -> tuple[float, float]:
    """Relative difference of our statistic and gradient (2-norm) from the reference's."""
    mod = SIGReg().to(h.device)
    mod.fused = fused
    ours, ref = mod.statistic(h, a), reference_sigreg(h, a)
    g1, = torch.autograd.grad(ours, h)
    g2, = torch.autograd.grad(ref, h)
    return (abs(ours.item() - ref.item()) / abs(ref.item()),
            ((g1 - g2).norm() / g2.norm()).item())


def _ratio(num: list, den: list) -> dict:
    r = np.array(num) / np.array(den)
    return dict(median=float(np.median(r)), min=float(r.min()), max=float(r.max()))


def _sigreg_case(views: int, batch: int, n: int, slices: int, rounds: int, fused: bool,
                 device) -> dict:
    """Interleaved rounds (reference, eager, compiled, floor, reference, ...): the machine's
    speed drifts (shared cores; allocator and thread-pool warm-up), so every ratio is taken
    between timings of the same round and summarised by its median and range."""
    g = torch.Generator().manual_seed(batch + n)
    shape = (views, batch, n) if views > 1 else (batch, n)
    h = torch.randn(*shape, generator=g).to(device).requires_grad_()
    a = SIGReg(num_slices=slices).directions(n, device)
    fns = _sigreg_fns(h, a, fused)
    times = interleaved(fns, rounds, min_seconds=0.1, min_reps=2, warmup_seconds=0.02)
    row = dict(views=views, batch=batch, N=n, slices=slices, rounds=rounds,
               **{f"{k}_ms": 1e3 * float(np.median(v)) for k, v in times.items()})
    for k in [k for k in fns if k not in ("reference", "floor")]:
        row[f"speedup_{k}"] = _ratio(times["reference"], times[k])
        row[f"over_floor_{k}"] = _ratio(times[k], times["floor"])
        row[f"stat_rel_diff_{k}"], row[f"grad_rel_diff_{k}"] = _agreement(
            h, a, k == "compiled")
    return row


def run(dims=(8, 64, 256), batch: int = 512, sigreg_batches=(256, 512, 1024, 2048),
        slices: int = 256, rounds: int = 5, parallel_seconds: float = 3.0) -> dict:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    peak = matmul_flops(device=device)
    t0, c0 = time.perf_counter(), time.process_time()
    kernels = _fused_kernels(torch.zeros(1, device=device), 17) if compile_enabled() else None
    compiled = kernels is not None
    compile_s = (time.perf_counter() - t0, time.process_time() - c0)
    rows = _training(dims, batch, rounds, device)
    flops = {(r["objective"], r["N"]): r["step_gflop"] * 1e9 for r in rows}
    parallel = []
    for n in (dims if parallel_seconds > 0 and device.type == "cpu" else ()):
        # the pair's matmul FLOP/s over the machine's (all threads) ceiling, the ceiling
        # measured right before and after the pairs of this N (session 22's host drifted
        # 26-63 GFLOP/s within minutes; against the start's ceiling one pair came to 1.1):
        # the fraction at their mean, its range at the two
        before = matmul_flops(device=device, min_seconds=0.2)
        pairs = _parallel_runs(n, batch, parallel_seconds)
        after = matmul_flops(device=device, min_seconds=0.2)
        for r in pairs:
            achieved = r["two_runs_pairs_per_s"] / batch * flops[r["objective"], r["N"]]
            r.update(ceiling_gflops=(before / 1e9, after / 1e9),
                     matmul_fraction=achieved / ((before + after) / 2),
                     matmul_fraction_min=achieved / max(before, after),
                     matmul_fraction_max=achieved / min(before, after))
        parallel += pairs
    sig = [_sigreg_case(v, b, n, slices, rounds, compiled, device)
           for v in (1, 2) for b in sigreg_batches for n in dims]
    return dict(device=device.type, threads=torch.get_num_threads(),
                clock="thread CPU time" if _CLOCK is time.thread_time else "wall",
                matmul_gflops=peak / 1e9, compiled=compiled,
                # which fused kernels: the C++ ones (the default since session 39) or the
                # compiled ones (the "compiled" columns time whichever it is)
                sigreg_kernel=_kernel_name(kernels),
                compile_seconds=compile_s[0], compile_cpu_seconds=compile_s[1],
                # issue 16 item 4: whether this run measured a GPU (and which)
                gpu=(torch.cuda.get_device_name(device) if device.type == "cuda" else None),
                training=rows, parallel_runs=parallel, sigreg=sig)


#: issue 16's targets: SIGReg >= 10x the reference and <= 2x the floor at every single-view
#: size; the statistic and gradient within 1e-5 of the reference (float32); the training
#: step at N >= 256 at >= 0.5 of the dense-matmul ceiling for every objective
TARGETS = dict(speedup=10.0, over_floor=2.0, rel_diff=1e-5, matmul_fraction=0.5, large_n=256)


def targets(res: dict) -> dict:
    """Issue 16's targets counted on one :func:`run`'s results (medians over its rounds),
    for the kernel SIGReg trains with (compiled if ``res['compiled']``, else eager): how
    many single-view sizes meet each, the largest relative differences from the
    reference, and each objective's step fraction at N >= 256 (``None`` without such N)."""
    kind = "compiled" if res["compiled"] else "eager"
    label = res.get("sigreg_kernel", kind) if res["compiled"] else kind
    one = [r for r in res["sigreg"] if r["views"] == 1]
    size = [f"{r['batch']}x{r['N']}" for r in one]
    fast = [r[f"speedup_{kind}"]["median"] >= TARGETS["speedup"] for r in one]
    near = [r[f"over_floor_{kind}"]["median"] <= TARGETS["over_floor"] for r in one]
    diff = max(max(r[f"stat_rel_diff_{kind}"], r[f"grad_rel_diff_{kind}"])
               for r in res["sigreg"])
    large = [r for r in res["training"] if r["N"] >= TARGETS["large_n"]]
    step = {r["objective"]: r["matmul_fraction"] for r in large
            if r["N"] == max(x["N"] for x in large)} if large else None
    return dict(kernel=label, sizes=len(one),
                speedup_met=sum(fast), speedup_missed=[s for s, ok in zip(size, fast) if not ok],
                floor_met=sum(near), floor_missed=[s for s, ok in zip(size, near) if not ok],
                max_rel_diff=diff, rel_diff_met=diff <= TARGETS["rel_diff"],
                gpu=res.get("gpu"), step_fraction=step,
                step_met=None if step is None else all(
                    f >= TARGETS["matmul_fraction"] for f in step.values()))


def _print_targets(t: dict) -> None:
    n = t["sizes"]
    print(f"\nissue 16's targets in this run ({t['kernel']} kernel, single view, medians):")
    print(f"  >= {TARGETS['speedup']:g}x the reference: {t['speedup_met']} of {n} sizes"
          + (f" (missed: {', '.join(t['speedup_missed'])})" if t["speedup_missed"] else ""))
    print(f"  <= {TARGETS['over_floor']:g}x the floor: {t['floor_met']} of {n} sizes"
          + (f" (missed: {', '.join(t['floor_missed'])})" if t["floor_missed"] else ""))
    print(f"  statistic and gradient within {TARGETS['rel_diff']:g} of the reference: "
          f"{'yes' if t['rel_diff_met'] else 'NO'} (largest {t['max_rel_diff']:.1e})")
    if t["step_fraction"] is None:
        print(f"  training step at N >= {TARGETS['large_n']}: not measured (no such --dims)")
    else:
        print(f"  training step at N >= {TARGETS['large_n']} >= {TARGETS['matmul_fraction']:g} "
              "of the matmul ceiling: " + ", ".join(
                  f"{o} {f:.3f}" for o, f in t["step_fraction"].items())
              + f" -> {'met' if t['step_met'] else 'NOT met'}")
    gpu = t.get("gpu")
    print("  GPU benchmark (item 4): " + (
        f"this run, on {gpu}; the targets above were set on a CPU and are counted here on "
        "the GPU's numbers" if gpu else "not run (torch finds no CUDA device here)"))


def _kernel_name(kernels) -> str:
    """Which fused kernels :func:`pycheck.objectives._fused_kernels` gave: ``"cpp"`` (the
    C++ ones, :mod:`pycheck.sigreg_cpp`), ``"compiled"``, or ``"eager"`` (none)."""
    from . import sigreg_cpp
    if kernels is None:
        return "eager"
    return "cpp" if kernels[0] is sigreg_cpp.forward else "compiled"


def _print(res: dict) -> None:
    print(f"device {res['device']}, {res['threads']} threads, {res['clock']} clock; "
          f"dense matmul (float32 1024^2): "
          f"{res['matmul_gflops']:.1f} GFLOP/s")
    # runs before session 39 have no "sigreg_kernel" (compiled, or C++ where it says so)
    cpp = {"cpp": " (the C++ kernels, pycheck.sigreg_cpp, one autograd node per call; "
                  "PYCHECK_SIGREG_KERNEL=compiled for inductor's)",
           "compiled": " (torch.compile's inductor kernels, " + (
               "on CUDA, where they are the default)" if res["device"] == "cuda" else
               "PYCHECK_SIGREG_KERNEL=compiled)")
           }.get(res.get("sigreg_kernel"), "")
    print(f"compiled SIGReg kernels: {'yes' if res['compiled'] else 'NO (eager fallback)'}{cpp}; "
          f"compiling (float32, 17 knots, torch's on-disk cache as found): "
          f"{res['compile_seconds']:.1f} s wall, {res['compile_cpu_seconds']:.1f} s CPU")
    print(f"\n{'objective':<9} {'N':>5} {'step ms (min-max)':>22} {'pairs/s':>9} "
          f"{'GFLOP/step':>10} "
          f"{'matmul frac (min-max)':>22} {'cpu/wall':>8} {'load':>5}")
    for r in res["training"]:
        print(f"{r['objective']:<9} {r['N']:>5} {r['step_ms']:>8.1f} "
              f"({r['step_ms_min']:>5.1f}-{r['step_ms_max']:<6.1f}) {r['pairs_per_s']:>9.0f} "
              f"{r['step_gflop']:>10.3f} {r['matmul_fraction']:>9.3f} "
              f"({r['matmul_fraction_min']:.2f}-{r['matmul_fraction_max']:.2f})"
              f" {r['cpu_per_wall']:>8.2f} {r['load_avg']:>5.1f}")
    if res["parallel_runs"]:
        one = {(r["objective"], r["N"]): r["pairs_per_s"] for r in res["training"]}
        print("\ntwo runs side by side, one thread each: total pairs/s (against one run "
              "above), matmul fraction of the pair (at the ceiling measured before / after)")
        for r in res["parallel_runs"]:
            print(f"{r['objective']:<9} {r['N']:>5} {r['two_runs_pairs_per_s']:>9.0f}  "
                  f"({r['two_runs_pairs_per_s'] / one[(r['objective'], r['N'])]:.2f}x)  "
                  f"{r['matmul_fraction']:.3f} ({r['matmul_fraction_min']:.2f}-"
                  f"{r['matmul_fraction_max']:.2f}; ceiling {r['ceiling_gflops'][0]:.0f} / "
                  f"{r['ceiling_gflops'][1]:.0f} GFLOP/s)")
    ours = [k for k in ("eager", "compiled") if f"{k}_ms" in res["sigreg"][0]]
    print(f"\nSIGReg forward+backward, {res['sigreg'][0]['slices']} slices, 17 knots; "
          f"ms are medians, ratios median (min-max) over {res['sigreg'][0]['rounds']} "
          "interleaved rounds")
    head = f"{'views':>5} {'batch':>5} {'N':>4} {'ref ms':>8} {'floor ms':>8}"
    for k in ours:
        head += f" | {k + ' ms':>11} {'ref/' + k:>19} {k + '/floor':>19} {'stat,grad diff':>15}"
    print(head)
    for r in res["sigreg"]:
        line = (f"{r['views']:>5} {r['batch']:>5} {r['N']:>4} {r['reference_ms']:>8.2f} "
                f"{r['floor_ms']:>8.2f}")
        for k in ours:
            s, f = r[f"speedup_{k}"], r[f"over_floor_{k}"]
            line += (f" | {r[k + '_ms']:>11.2f} {s['median']:>6.1f} ({s['min']:>4.1f}-{s['max']:<5.1f})"
                     f" {f['median']:>6.1f} ({f['min']:>4.1f}-{f['max']:<5.1f})"
                     f" {r['stat_rel_diff_' + k]:>7.0e},{r['grad_rel_diff_' + k]:>7.0e}")
        print(line)
    _print_targets(res.get("targets") or targets(res))


def main(argv: list[str] | None = None) -> int:
    from .cli import path_arg
    class OneLine(argparse.ArgumentParser):
        def error(self, message):   # one line and exit 2, as the rest of the CLI (s36)
            self.exit(2, f"pycheck bench: error: {message}\n")
    p = OneLine(prog="pycheck bench", description=__doc__.split("\n\n")[0]
                + " A run with the defaults takes about 3 minutes on 2 CPU cores.")
    p.add_argument("--dims", type=int, nargs="+", default=[8, 64, 256],
                   help="latent dimensions N of the training steps and the SIGReg comparison "
                        "(default: 8 64 256)")
    p.add_argument("--batch", type=int, default=512,
                   help="pairs per training step (default: 512)")
    p.add_argument("--sigreg-batches", type=int, nargs="+", default=[256, 512, 1024, 2048],
                   help="batch sizes (per view) of the SIGReg comparison (default: 256 512 "
                        "1024 2048)")
    p.add_argument("--threads", type=int, default=None,
                   help=f"torch threads (default: torch's, here {torch.get_num_threads()})")
    p.add_argument("--rounds", type=int, default=5,
                   help="interleaved rounds of the SIGReg comparison, and timed rounds of "
                        "each training step (default: 5)")
    p.add_argument("--cpu-clock", action="store_true",
                   help="time by this thread's CPU time instead of wall time (needs "
                        "--threads 1): on a machine shared with other jobs")
    p.add_argument("--parallel-seconds", type=float, default=3.0,
                   help="seconds each of two one-thread runs trains side by side (0: skip)")
    p.add_argument("--json", metavar="FILE", type=path_arg, help="also write the results as JSON")
    args = p.parse_args(argv)
    # one message per flag, naming it (a combined message did not say which; session 42)
    for flag, values in (("--dims", args.dims), ("--batch", [args.batch]),
                         ("--sigreg-batches", args.sigreg_batches)):
        if any(v < 2 for v in values):
            p.error(f"{flag} must be >= 2, got {' '.join(map(str, values))}")
        if len(set(values)) != len(values):     # a repeated size timed twice (session 42)
            p.error(f"{flag} lists a value more than once: {' '.join(map(str, values))}")
    if args.rounds < 1:
        p.error(f"--rounds must be >= 1, got {args.rounds}")
    if not 0 <= args.parallel_seconds < float("inf"):
        p.error(f"--parallel-seconds must be finite and >= 0, got {args.parallel_seconds}")
    if args.threads is not None and not 1 <= args.threads <= (os.cpu_count() or 1):
        # more threads than cores had been capped silently to the core count (session 36)
        p.error(f"--threads must be between 1 and this machine's {os.cpu_count() or 1} "
                f"cores, got {args.threads}")
    if args.json and (Path(args.json).is_dir() or not Path(args.json).parent.is_dir()):
        p.error(f"--json: {args.json} is a folder or its folder does not exist")
    if args.json and not os.access(Path(args.json).parent, os.W_OK | os.X_OK):
        # found only when the results were written, after the whole bench (session 36)
        p.error(f"--json: folder {Path(args.json).parent} is not writable")
    if args.cpu_clock and args.threads != 1:
        p.error("--cpu-clock needs --threads 1 (other threads' work is not on this clock)")
    if args.cpu_clock and torch.cuda.is_available():
        p.error("--cpu-clock times this CPU thread, not the GPU's work: on a CUDA machine "
                "use the wall clock (no --cpu-clock)")
    if args.threads:
        torch.set_num_threads(args.threads)
    # the allocator setting of every training worker (pycheck.train.keep_freed_memory):
    # the bench times the steps as the experiments run them
    from .train import keep_freed_memory
    keep_freed_memory()
    global _CLOCK
    _CLOCK = time.thread_time if args.cpu_clock else time.perf_counter
    res = run(tuple(args.dims), args.batch, tuple(args.sigreg_batches), rounds=args.rounds,
              parallel_seconds=args.parallel_seconds)
    res["targets"] = targets(res)
    _print(res)
    if args.json:
        from .store import write_json
        write_json(args.json, res)
    return 0

"""Batched multi-run training (issue #11 item 4, #16 item 3): what stacking K small runs into
one set of batched ops (``torch.func.stack_module_state`` + ``vmap``) buys on this CPU.

    .venv/bin/python scripts/batched_runs.py [--rounds 3] [--out results/bench]

Workload: the scaling experiment's small-N step (alignment + VICReg, batch 256 pairs, both
views through the encoder), with fit_encoder's default encoder (residual MLP, 3 x 128 SiLU
branch) at N = 2 and 8. Measured, interleaved over rounds, all in one process:

* ``single``: one run, one Adam step per call, with 2 torch threads (what one
  ``reproduce`` worker does with the machine to itself) and with 1;
* ``vmap K``: K runs stacked (K = 2, 4, 8), one batched step for all K, 2 threads and 1;

reported as pairs per second summed over runs, and as a ratio to ``single``. Before timing,
the script checks that a stacked run follows the same trajectory as the same run trained
alone (Adam is elementwise, so stacking must not couple the runs): after 20 steps the
encoders' centred outputs on a test batch must agree to float32 rounding (relative to their
spread; the loss is shift-invariant, so the output biases wander on rounding noise).
Writes ``batched_runs.json`` and ``batched_runs.md``.
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import torch
from torch.func import functional_call, stack_module_state, vmap

from pycheck.encoders import ResidualMLPEncoder
from pycheck.objectives import alignment, vicreg

BATCH, DIMS, KS, STEPS_PER_TIMING = 256, (2, 8), (2, 4, 8), 30


def _loss(model_call, params, x, xn):
    h, hn = model_call(params, x), model_call(params, xn)
    return alignment(h, hn) / h.shape[1] + 0.5 * (vicreg(h) + vicreg(hn))


def _models(n: int, k: int) -> list[torch.nn.Module]:
    out = []
    for i in range(k):
        torch.manual_seed(i)
        m = ResidualMLPEncoder(n, n)
        with torch.no_grad():   # a nonzero branch, so that every parameter gets a gradient
            m.mlp[-1].weight.normal_(0, 0.01)
        out.append(m)
    return out


class Stacked:
    """K runs as one: stacked parameters, one Adam over the stacks, vmapped loss."""

    def __init__(self, models: list[torch.nn.Module]):
        self.params, _ = stack_module_state(models)
        self.params = {k: v.detach().requires_grad_() for k, v in self.params.items()}
        base = copy.deepcopy(models[0]).to("meta")
        call = lambda p, x: functional_call(base, p, (x,))   # noqa: E731
        self.batched = vmap(lambda p, x, xn: _loss(call, p, x, xn))
        self.opt = torch.optim.Adam(self.params.values(), lr=1e-3)

    def step(self, x, xn):
        loss = self.batched(self.params, x, xn).sum()   # runs independent: sum = per-run grads
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()


class Single:
    def __init__(self, model: torch.nn.Module):
        self.model = model
        self.opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(self, x, xn):
        loss = _loss(lambda p, v: self.model(v), None, x, xn)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()


def _batches(n: int, k: int, steps: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(steps, k, BATCH, n, generator=g)
    zn = 0.5 * z + (0.75 ** 0.5) * torch.randn(steps, k, BATCH, n, generator=g)
    return torch.tanh(z) + z, torch.tanh(zn) + zn


def equivalence(n: int = 8, k: int = 4, steps: int = 20) -> float:
    """Largest |stacked - alone| difference of the encoders' outputs on a test batch after
    ``steps`` steps, relative to the outputs' standard deviation, over the K runs."""
    x, xn = _batches(n, k, steps, seed=1)
    models = _models(n, k)
    stacked = Stacked(models)
    alone = [Single(copy.deepcopy(m)) for m in models]
    for s in range(steps):
        stacked.step(x[s], xn[s])
        for i, run in enumerate(alone):
            run.step(x[s, i], xn[s, i])
    test = torch.randn(1000, n, generator=torch.Generator().manual_seed(2))
    worst = 0.0
    with torch.no_grad():
        for i, run in enumerate(alone):
            h = run.model(test)
            q = {name: v[i] for name, v in stacked.params.items()}
            hq = functional_call(run.model, q, (test,))
            # centred: the loss is shift-invariant, so the output biases' gradients are
            # rounding noise that Adam scales to full steps, in both runs differently
            diff = (h - h.mean(0)) - (hq - hq.mean(0))
            worst = max(worst, (diff.abs().max() / h.std()).item())
    return worst


def _time(runner, x, xn, threads: int) -> float:
    torch.set_num_threads(threads)
    runner.step(x[0], xn[0])                        # warm-up
    t0 = time.perf_counter()
    for s in range(1, x.shape[0]):
        runner.step(x[s], xn[s])
    return (time.perf_counter() - t0) / (x.shape[0] - 1)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default="results/bench")
    args = p.parse_args()
    if args.rounds < 1:
        p.error("--rounds must be >= 1")
    threads = torch.get_num_threads()
    diff = equivalence()
    # float32 Adam on 20 steps: differences come only from summation order in the batched
    # matmuls; 1e-4 of the parameters' scale is far above that and far below a real coupling
    if diff > 1e-4:
        raise SystemExit(f"stacked runs diverge from runs trained alone: {diff:.2e}")
    cases = [("single", n, 1, t) for n in DIMS for t in (threads, 1)] + \
            [(f"vmap {k}", n, k, t) for n in DIMS for k in KS for t in (threads, 1)]
    times: dict[tuple, list[float]] = {c: [] for c in cases}
    for r in range(args.rounds):                    # interleaved: load drifts hit all cases
        for c in cases:
            name, n, k, t = c
            x, xn = _batches(n, k, STEPS_PER_TIMING, seed=r)
            runner = Single(_models(n, 1)[0]) if k == 1 else Stacked(_models(n, k))
            if k == 1:
                x, xn = x[:, 0], xn[:, 0]
            times[c].append(_time(runner, x, xn, t))
    torch.set_num_threads(threads)
    rows = []
    for (name, n, k, t), ts in times.items():
        med = statistics.median(ts)
        base = statistics.median(times[("single", n, 1, threads)])
        rows.append(dict(case=name, N=n, runs=k, threads=t, step_ms=1e3 * med,
                         step_ms_min=1e3 * min(ts), step_ms_max=1e3 * max(ts),
                         pairs_per_s=k * BATCH / med, vs_single=k * base / med))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "batched_runs.json").write_text(json.dumps(dict(
        rows=rows, equivalence_rel_diff=diff, rounds=args.rounds, batch=BATCH,
        torch_threads=threads), indent=2))
    lines = ["| N | case | threads | step ms (min-max) | pairs/s (all runs) | vs single |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['N']} | {r['case']} | {r['threads']} | {r['step_ms']:.2f} "
              f"({r['step_ms_min']:.2f}-{r['step_ms_max']:.2f}) | {r['pairs_per_s']:.0f} | "
              f"{r['vs_single']:.2f}x |" for r in rows]
    note = (f"\nResidual MLP (3 x 128 SiLU), alignment + VICReg, batch {BATCH} pairs; medians "
            f"over {args.rounds} interleaved rounds of {STEPS_PER_TIMING - 1} steps; 'single' "
            f"uses {threads} threads. Stacked vs alone after 20 steps: max centred "
            f"output difference {diff:.1e} (relative to the outputs' std).\n")
    (out / "batched_runs.md").write_text("## Batched multi-run training (scripts/batched_runs.py)"
                                         "\n\n" + "\n".join(lines) + "\n" + note)
    print("\n".join(lines) + note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

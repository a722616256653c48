"""The matched RealNVP encoder with a learned log-scale bound against the constant one (session 32).

One scaling-style run (RealNVP mixing, fresh antithetic QMC pairs, rho = 0.5, 20 000 stored
pairs for the whitening and the held-out selection, 5000 test pairs; as
pycheck.experiments.scaling builds it) per line of a jobs file:

    MODE OBJECTIVE N SEED STEPS BATCH LR [OPTIONS_JSON]

MODE is ``learn`` (RealNVPEncoder(learn_bound=True), the default since session 32) or
``fixed`` (the constant bound 2 of the tables before it); OBJECTIVE is sigreg, vicreg,
infonce or supervised (the budget ceiling, regression on z). One JSON line per run is
appended to OUT (R²(h->z) on the test pairs, seconds).

Usage: python scripts/learned_bound_probe.py JOBS_FILE OUT [WORKERS]
       (one torch thread per run, WORKERS runs side by side; default 2)
"""
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def one(line: str) -> dict:
    import torch
    torch.set_num_threads(1)
    from pycheck.experiments import _common
    mode, obj, n, seed, steps, batch, lr, *rest = line.split(maxsplit=7)
    if mode not in ("learn", "fixed"):
        raise SystemExit(f"MODE must be learn or fixed, got {mode!r}")
    base = dict(mixing="realnvp", n=int(n), seed=int(seed), rho=0.5, n_train=20000,
                n_test=5000, steps=int(steps), batch_size=int(batch), lr=float(lr),
                encoder="realnvp", fresh=True, qmc=True, learn_bound=mode == "learn")
    t0 = time.perf_counter()
    if obj == "supervised":
        r = _common.supervised_reference(**base)
        opts = {}
    else:
        opts = json.loads(rest[0]) if rest else {}
        r = _common.train_and_measure(objective=obj, options=opts, antithetic=True, **base)
    return dict(mode=mode, objective=obj, n=int(n), seed=int(seed), steps=int(steps),
                batch=int(batch), lr=float(lr), options=opts, r2_hz=r["r2_hz"],
                train_seconds=r["train_seconds"], seconds=time.perf_counter() - t0)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--one":
        print(json.dumps(one(sys.argv[2])))
        return
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    jobs = [ln.strip() for ln in open(sys.argv[1]) if ln.strip() and not ln.startswith("#")]
    out, workers = sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else 2
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

    def run(line):                       # a fresh process per run: no shared torch state
        p = subprocess.run([sys.executable, __file__, "--one", line], env=env,
                           capture_output=True, text=True)
        if p.returncode:
            print(f"FAILED: {line}\n{p.stderr[-2000:]}", file=sys.stderr, flush=True)
            return
        rec = p.stdout.strip().splitlines()[-1]
        with open(out, "a") as f:
            f.write(rec + "\n")
        print(rec, flush=True)
    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(run, jobs))


if __name__ == "__main__":
    main()

"""The bench's training step (fit_encoder's full step) beside the bare step (no gradient
clipping, lr schedule or weight average), interleaved in one process, 2 threads.

Session 9 output (16:27 UTC, quiet machine, right after `pycheck bench`):
``results/bench/step_bare_vs_full_s9.txt``. Usage: ``.venv/bin/python scripts/bench_step_parts.py``
"""
import torch, numpy as np
from pycheck import bench
from pycheck.bench import _timeit
torch.set_num_threads(2)
for n in (8, 256):
    for obj in ("vicreg", "sigreg"):
        step, _ = bench._step_setup(obj, n, 512, "cpu")
        # the bare step, as before session 9
        from pycheck.encoders import RealNVPEncoder
        cl = step.__closure__
        names = step.__code__.co_freevars
        env = dict(zip(names, [c.cell_contents for c in cl]))
        model, xs, loss_fn, opt, batch = env['model'], env['xs'], env['loss_fn'], env['opt'], env['batch']
        def bare():
            h = model.encoder(xs)
            loss, _ = loss_fn(h[:batch], h[batch:])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        a, b = [], []
        for r in range(5):
            a.append(_timeit(bare, 0.3)); b.append(_timeit(step, 0.3))
        print(n, obj, 'bare %.2f ms  full %.2f ms' % (1e3*np.median(a), 1e3*np.median(b)), flush=True)

"""InfoNCE's loss, forward + backward, as autograd through two cross-entropies (before session
39) against the hand-written backward (pycheck.objectives._SymmetricInfoNCE), interleaved in
one process, and the three matmuls both must do.

Usage: python scripts/infonce_probe.py [N] [BATCH] [--synthetic]   (defaults 256 512; run on a
quiet machine)
Results: results/bench/infonce_probe_s39.txt."""
import sys

import numpy as np
import torch
import torch.nn.functional as F

from pycheck import bench, objectives
from pycheck.train import keep_freed_memory

torch.set_num_threads(2)
keep_freed_memory()
args = [a for a in sys.argv[1:] if not a.startswith("--")]
n, b = (int(a) for a in (args or ["256", "512"]))
g = torch.Generator().manual_seed(0)
if "--synthetic" in sys.argv:
    # pairs at a small scale (sigma = 1): positives close, negatives at squared distances of a
    # few units, so that neither softmax is one-hot
    h = (0.06 * torch.randn(b, n, generator=g)).requires_grad_()
    hn = (h.detach() + 0.03 * torch.randn(b, n, generator=g)).requires_grad_()
else:
    # the embeddings InfoNCE sees in pycheck bench's training step (the scaling world's
    # RealNVP encoder) after 30 steps: logits from about -460 to -84
    cap = {}
    infonce = objectives.infonce

    def spy(a, c, sigma=1.0):
        cap["h"], cap["hn"] = a.detach().clone(), c.detach().clone()
        return infonce(a, c, sigma)
    objectives.infonce = spy
    step, _ = bench._step_setup("infonce", n, b, torch.device("cpu"))
    for _ in range(30):
        step()
    objectives.infonce = infonce
    h, hn = cap["h"].requires_grad_(), cap["hn"].requires_grad_()


def autograd_form():
    logits, labels = objectives._infonce_logits(h, hn, 1.0)
    loss = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
    return (loss, *torch.autograd.grad(loss, (h, hn)))


def hand_written():
    loss = objectives.infonce(h, hn, 1.0)
    return (loss, *torch.autograd.grad(loss, (h, hn)))


hd, hnd = h.detach(), hn.detach()
gm = torch.randn(b, b, generator=g)
fns = {"autograd": autograd_form, "hand-written": hand_written,
       "3 matmuls": lambda: (hd @ hnd.T, gm @ hnd, gm.T @ hd)}
ref, ours = autograd_form(), hand_written()
logits = objectives._infonce_logits(h.detach(), hn.detach(), 1.0)[0]
print(f"{'synthetic' if '--synthetic' in sys.argv else 'bench step 30'} embeddings, logits "
      f"{logits.min().item():.0f} to {logits.max().item():.0f}")
print(f"N = {n}, batch {b}, 2 threads; loss {ref[0].item():.6f} / {ours[0].item():.6f}; "
      "gradient relative difference " + ", ".join(
          f"{((x - y).norm() / x.norm()).item():.1e}" for x, y in zip(ref[1:], ours[1:])))
times = bench.interleaved(fns, 7, min_seconds=0.3)
for k, v in times.items():
    print(f"{k:>13}: {1e3 * np.median(v):.2f} ms (rounds {1e3 * min(v):.2f}-{1e3 * max(v):.2f})")
ratio = np.array(times["autograd"]) / np.array(times["hand-written"])
print(f"autograd / hand-written: {np.median(ratio):.2f} (rounds {ratio.min():.2f}-{ratio.max():.2f})")

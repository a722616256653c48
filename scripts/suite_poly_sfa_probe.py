"""Probe (session 12): SFA on fixed polynomial / random Fourier features of x, on the 12 suite mixings.
Output: results/fit_encoder/suite/poly_sfa_s12.txt. Usage: python scripts/suite_poly_sfa_probe.py [MIXING ...]
"""
import sys, itertools, numpy as np
import os; _root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))); sys.path[:0] = [os.path.join(_root, "scripts"), _root]
from suite import SUITE, mix, _data
from pycheck.sfa import sfa_readout
from pycheck.metrics import linear_r2

def poly(x, deg):
    cols = [x]
    n = x.shape[1]
    for d in range(2, deg + 1):
        for idx in itertools.combinations_with_replacement(range(n), d):
            cols.append(np.prod(x[:, idx], axis=1, keepdims=True))
    return np.concatenate(cols, 1)

names = sys.argv[1:] or list(SUITE)
for name in names:
    n = SUITE[name][1]
    z, zn, zt = _data(name)
    x, xn, xt = mix(name, z), mix(name, zn), mix(name, zt)
    mu, sd = x.mean(0), x.std(0)
    f = lambda a: (a - mu) / sd
    x, xn, xt = f(x), f(xn), f(xt)
    out = [name, f"x {linear_r2(xt, zt):.4f}"]
    ntr = 18000
    for deg in (2, 3, 4):
        if n > 4 and deg > 3: continue
        P, Pn, Pt = poly(x, deg), poly(xn, deg), poly(xt, deg)
        m, W, _ = sfa_readout(P[:ntr], Pn[:ntr], n, ridge=1e-6)
        out.append(f"p{deg}({P.shape[1]}) {linear_r2((Pt - m) @ W, zt):.4f}")
    for k in (256, 1024):
        for scale in (1.0, 3.0):
            rr = np.random.default_rng(1)
            w = rr.standard_normal((n, k)) / scale; b = rr.uniform(0, 2*np.pi, k)
            g = lambda a: np.concatenate([a, np.cos(a @ w + b)], 1)
            P, Pn, Pt = g(x), g(xn), g(xt)
            m, W, s = sfa_readout(P[:ntr], Pn[:ntr], n, ridge=1e-6)
            h = (Pt - m) @ W
            out.append(f"rff{k}/{scale} {linear_r2(h, zt):.4f}")
    print(" | ".join(out), flush=True)

"""Sanity checks of the six mixings: scale, tails, Jacobian conditioning, R²(x->z)."""
import numpy as np, sys
sys.path.insert(0, "/tmp/hA/trial_hA")
from worlds_new import WORLDS, mix
from scipy.stats import kurtosis
for name, (fam, n, rho) in WORLDS.items():
    rng = np.random.default_rng(123)
    z = rng.standard_normal((20000, n))
    x = mix(name, z)
    # numerical Jacobian on 500 points
    zs, eps = z[:500], 1e-5
    J = np.stack([(mix(name, zs + eps * e) - mix(name, zs - eps * e)) / (2 * eps) for e in np.eye(n)], -1)
    sv = np.linalg.svd(J, compute_uv=False)
    det = np.linalg.det(J)
    # R2(x->z) linear
    A = np.c_[x[:10000], np.ones(10000)]
    coef, *_ = np.linalg.lstsq(A, z[:10000], rcond=None)
    pred = np.c_[x[10000:], np.ones(10000)] @ coef
    zt = z[10000:]
    r2 = 1 - ((zt - pred) ** 2).sum(0) / ((zt - zt.mean(0)) ** 2).sum(0)
    print(f"{name:22s} std {x.std(0).min():.2f}-{x.std(0).max():.2f} max|x| {np.abs(x).max():.1f} "
          f"kurt {kurtosis(x,axis=0).min():.1f}..{kurtosis(x,axis=0).max():.1f} "
          f"sv min {sv.min():.3g} med-min {np.median(sv[:,-1]):.3g} max {sv.max():.3g} "
          f"det sign {np.sign(det).min():+.0f}/{np.sign(det).max():+.0f} R2(x->z) {r2.mean():.4f}")

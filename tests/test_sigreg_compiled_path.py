"""SIGReg's default (compiled) path, run eagerly: the same Python source, seconds not minutes.

``PYCHECK_SIGREG_COMPILE`` is on by default, so users run :func:`ecf_statistic`'s fused
branch, while the suite (``tests/conftest.py``) runs the eager kernel for speed. Here
``torch.compile`` is replaced by the identity: ``_fused_kernels``, ``_FusedECF`` and the
kernels it would compile then run exactly as written, uncompiled, and are checked against a
direct float64 formula (``cos``/``sin`` at every knot, gradient by autograd), with arbitrary
knot values ``phi`` and weights so that no part of the quadrature is taken on trust.
What torch.compile itself does to this source is tested in ``tests/test_sigreg_kernels.py``
(slow; it compiles).
"""
import math
import warnings

import numpy as np
import pytest
import torch
from scipy.integrate import trapezoid

from pycheck import objectives
from pycheck.objectives import SIGReg, ecf_statistic

# float64 throughout: the kernels build cos(kθ), sin(kθ) by products of lower harmonics,
# whose rounding grows at most linearly in k (<= 16 here), i.e. ~1e-14 relative; 1e-11
# leaves a wide margin; a wrong knot, weight, index or sign changes them at O(1) relative
# for these non-Gaussian projections (every non-equivalent mutant of the kernels fails).
RTOL = 1e-11


def close(ours, ref, rtol, atol):
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)


@pytest.fixture
def uncompiled(monkeypatch):
    """``torch.compile`` as the identity, a fresh kernel cache; returns the compile calls.
    The compiled kernels selected (on CPU in float32 the C++ ones are the default)."""
    calls = []
    monkeypatch.setenv("PYCHECK_SIGREG_KERNEL", "compiled")

    def identity(fn, **kwargs):
        calls.append((fn.__name__, kwargs))
        return fn
    monkeypatch.setattr(torch, "compile", identity)
    monkeypatch.setattr(objectives, "_FUSED", {})
    return calls


def assert_fused_kernels_kept():
    """``_fused_kernels`` turns *any* exception of its probe call into "compiling failed",
    a warning and the eager kernel: a bug in the kernels' source would pass unnoticed."""
    assert objectives._FUSED and None not in objectives._FUSED.values(), objectives._FUSED


def direct_statistic(y: torch.Tensor, t0: float, phi: torch.Tensor, w: torch.Tensor):
    """``B Σ_k w_k |mean_i exp(i k t0 y_i) − phi_k|²`` per row of ``y``, one cos/sin per knot."""
    theta = t0 * torch.arange(phi.numel(), dtype=y.dtype)[:, None, None] * y  # (K, G, B)
    re = torch.cos(theta).mean(-1) - phi[:, None]
    im = torch.sin(theta).mean(-1)
    return y.shape[-1] * (w[:, None] * (re.square() + im.square())).sum(0)


def _case(num_knots: int, rows: int = 5, batch: int = 37, seed: int = 0):
    """Non-Gaussian projections (so ECF − phi is O(1), no cancellation), random knot values
    and weights (the kernel must use the ones it is given, at the right index). ``phi[0] =
    1``: every CF is 1 at t = 0, which is why the kernels skip that knot."""
    g = torch.Generator().manual_seed(seed)
    y = (2.0 * torch.rand(rows, batch, generator=g, dtype=torch.float64) - 0.7)
    phi = torch.rand(num_knots, generator=g, dtype=torch.float64)
    phi[0] = 1.0
    w = 0.1 + torch.rand(num_knots, generator=g, dtype=torch.float64)
    return y, phi, w


# K = 2 (one knot past 0: no harmonic recurrence), 5 and 17 (the default; 16 harmonics
# cross several powers of two of the doubling tree), 12 (a count that is not 2^m + 1)
@pytest.mark.parametrize("num_knots", [objectives.MAX_COMPILED_KNOTS + 1, 64])
def test_more_knots_than_are_compiled_run_the_eager_kernel_and_compile_nothing(
        uncompiled, monkeypatch, num_knots):
    """Above ``MAX_COMPILED_KNOTS`` (inductor took over 12 min for 64 knots) SIGReg, with
    compiling on as by default, runs the eager kernel: nothing compiled or cached, the
    statistic and gradient those of the direct formula."""
    monkeypatch.delenv("PYCHECK_SIGREG_COMPILE", raising=False)
    y, phi, w = _case(num_knots)
    ours_y, ref_y = y.clone().requires_grad_(), y.clone().requires_grad_()
    ours = ecf_statistic(ours_y, 0.05, phi, w)
    ref = direct_statistic(ref_y, 0.05, phi, w).mean()
    close(ours, ref, rtol=RTOL, atol=0)
    g_ours, = torch.autograd.grad(ours, ours_y)
    g_ref, = torch.autograd.grad(ref, ref_y)
    close(g_ours, g_ref, rtol=RTOL, atol=RTOL * g_ref.abs().max().item())
    h = torch.randn(50, 3, dtype=torch.float64)
    SIGReg(num_slices=4, num_knots=num_knots)(h)                 # the module too
    assert uncompiled == [] and objectives._FUSED == {}


@pytest.mark.parametrize("num_knots", [2, 5, 12, 17])
@pytest.mark.parametrize("t0", [0.1875, 0.7])
def test_fused_path_statistic_and_gradient_equal_the_direct_formula(uncompiled, num_knots, t0):
    y, phi, w = _case(num_knots)
    ours_y = y.clone().requires_grad_()
    ref_y = y.clone().requires_grad_()
    ours = ecf_statistic(ours_y, t0, phi, w, fused=True)
    ref = direct_statistic(ref_y, t0, phi, w).mean()
    assert ours.shape == ()
    close(ours, ref, rtol=RTOL, atol=0)
    g_ours, = torch.autograd.grad(ours, ours_y, torch.tensor(1.7, dtype=y.dtype))
    g_ref, = torch.autograd.grad(ref, ref_y, torch.tensor(1.7, dtype=y.dtype))
    close(g_ours, g_ref, rtol=RTOL, atol=RTOL * g_ref.abs().max().item())
    assert [name for name, _ in uncompiled] == ["_ecf_mean_forward", "_ecf_mean_backward"]
    assert_fused_kernels_kept()


@pytest.mark.parametrize("num_knots", [2, 5, 12, 17])
def test_per_row_kernels_equal_the_direct_formula_with_unequal_upstream_gradients(num_knots):
    """The kernels inside the compiled mean: the statistic per row, and a backward that
    weights each row by its own upstream gradient (the mean passes equal ones)."""
    y, phi, w = _case(num_knots)
    t0 = 0.7
    ref_y = y.clone().requires_grad_()
    c, s, dc, sin_m, stat = objectives._ecf_forward(y, t0, phi, w)
    ref = direct_statistic(ref_y, t0, phi, w)
    close(stat, ref, rtol=RTOL, atol=0)
    upstream = torch.linspace(0.5, 2.0, y.shape[0], dtype=y.dtype)
    g_ours = objectives._ecf_backward(c, s, dc, sin_m, w, upstream, t0)
    g_ref, = torch.autograd.grad(ref, ref_y, upstream)
    close(g_ours, g_ref, rtol=RTOL, atol=RTOL * g_ref.abs().max().item())


def test_fused_path_equals_the_eager_kernel_in_float32(uncompiled):
    """The default dtype of training. Both kernels round each batch mean at ~1e-7 relative
    and ECF − phi is O(1) for these projections, so they agree to 1e-5 (the issue's bound)."""
    y, phi, w = (x.float() for x in _case(17, rows=8, batch=300, seed=1))
    ys = [y.clone().requires_grad_() for _ in range(2)]
    eager = ecf_statistic(ys[1], 0.1875, phi, w, fused=False)
    assert uncompiled == [] and objectives._FUSED == {}     # fused=False compiles nothing
    fused = ecf_statistic(ys[0], 0.1875, phi, w, fused=True)
    assert fused.dtype == torch.float32
    assert_fused_kernels_kept()
    close(fused, eager, rtol=1e-5, atol=0)
    g_fused, g_eager = (torch.autograd.grad(s.sum(), v)[0] for s, v in zip((fused, eager), ys))
    close(g_fused, g_eager, rtol=1e-5, atol=1e-5 * g_eager.abs().max().item())


def test_default_sigreg_module_runs_the_fused_path_on_the_doubled_trapezoid_rule(
        uncompiled, monkeypatch):
    """``SIGReg()`` with the switch at its default: the statistic of the mean over slices is
    ``2 B ∫_0^T phi |ECF − phi|²`` by SciPy's trapezoid rule on the knots (independent of the
    module's weights), and the kernels were compiled once, for float64 and K = 17."""
    monkeypatch.delenv("PYCHECK_SIGREG_COMPILE", raising=False)
    g = torch.Generator().manual_seed(2)
    h = torch.rand(200, 3, generator=g, dtype=torch.float64) * 3 - 1
    mod = SIGReg(num_slices=4, seed=3)
    a = mod.directions(3, dtype=torch.float64)
    got = mod.statistic(h, a)
    t = np.linspace(0, 3.0, 17)
    y = (h @ a).T.numpy()                                        # (slices, B)
    ecf = np.exp(1j * t[:, None, None] * y).mean(-1)             # (K, slices)
    gap = np.abs(ecf - np.exp(-t ** 2 / 2)[:, None]) ** 2
    want = np.mean(2 * 200 * trapezoid(np.exp(-t ** 2 / 2)[:, None] * gap, t, axis=0))
    assert math.isclose(got.item(), want, rel_tol=RTOL)
    assert [(name, kw) for name, kw in uncompiled] == [
        (n, dict(dynamic=True, fullgraph=True, options={"cpp.dynamic_threads": True}))
        for n in ("_ecf_mean_forward", "_ecf_mean_backward")]
    assert list(objectives._FUSED) == [("cpu", torch.float64, 17)]
    assert_fused_kernels_kept()
    mod.statistic(h.float(), a.float())                          # a new dtype: compiled again
    mod.statistic(h, a)                                          # float64 again: cached
    assert len(uncompiled) == 4 and len(objectives._FUSED) == 2
    assert_fused_kernels_kept()


class FailOnRecompileLimitHit(RuntimeError):
    """Named as dynamo's exception for its limit of 8 configurations per process."""


@pytest.mark.parametrize("error, message", [
    (RuntimeError("no C++ compiler"), r"torch.compile failed \(RuntimeError: no C\+\+ "
                                      r"compiler\) for \('cpu', torch.float64, 17\); "
                                      r"this configuration uses the eager kernel"),
    # the 9th configuration's fallback said "torch.compile failed" (session 42)
    (FailOnRecompileLimitHit("recompile_limit reached"),
     r"recompile limit \(8 configurations of dtype and knots per process\) is reached for "
     r"\('cpu', torch.float64, 17\); this configuration uses the eager kernel"),
])
def test_a_compiler_failure_warns_once_and_falls_back_to_the_eager_kernel(monkeypatch, error,
                                                                          message):
    def broken(fn, **kwargs):
        raise error
    monkeypatch.setattr(torch, "compile", broken)
    monkeypatch.setattr(objectives, "_FUSED", {})
    y, phi, w = _case(17)
    with pytest.warns(RuntimeWarning, match=message):
        first = ecf_statistic(y, 0.25, phi, w, fused=True)
    close(first, direct_statistic(y, 0.25, phi, w).mean(), rtol=RTOL, atol=0)
    assert objectives._FUSED == {("cpu", torch.float64, 17): None}
    with warnings.catch_warnings():
        warnings.simplefilter("error")                         # remembered: no second warning
        again = ecf_statistic(y, 0.25, phi, w, fused=True)
    assert torch.equal(again, first)



def test_under_a_dispatch_mode_the_eager_kernel_runs_and_nothing_is_cached(uncompiled):
    """Dynamo cannot compile under a dispatch mode such as ``FlopCounterMode`` (what
    ``pycheck bench`` counts FLOPs with). Such a call runs the kernels' uncompiled source
    (the compiled path's operations: no matmul, unlike the eager kernel) without a warning
    and caches nothing, so the next call outside the mode compiles: before session 22 a
    FLOP count ahead of the first step cached "use eager" for the process."""
    from torch.utils.flop_counter import FlopCounterMode
    y, phi, w = _case(17)
    with warnings.catch_warnings(), FlopCounterMode(display=False) as fc:
        warnings.simplefilter("error")
        counted = ecf_statistic(y, 0.25, phi, w, fused=True)
    assert objectives._FUSED == {} and uncompiled == [] and fc.get_total_flops() == 0
    after = ecf_statistic(y, 0.25, phi, w, fused=True)
    assert list(objectives._FUSED) == [("cpu", torch.float64, 17)]
    assert_fused_kernels_kept()
    close(counted, direct_statistic(y, 0.25, phi, w).mean(), rtol=RTOL, atol=0)
    close(after, counted, rtol=RTOL, atol=0)


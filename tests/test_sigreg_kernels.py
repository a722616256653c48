"""SIGReg's kernels (eager and compiled) equal LeJEPA's reference computation.

The reference is :func:`pycheck.bench.reference_sigreg`, a transcription of the package's
``EppsPulley`` that builds its own knots and weights; our weights are also checked
against SciPy's trapezoid rule.
"""
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy.integrate import trapezoid

from pycheck import objectives
from pycheck.bench import reference_sigreg
from pycheck.objectives import SIGReg, _ecf_mean_backward, _ecf_mean_forward, _FusedECF


def test_sigreg_weights_are_the_doubled_gaussian_trapezoid_rule():
    mod = SIGReg(num_knots=17, t_max=3.0)
    t = np.linspace(0.0, 3.0, 17)
    phi = np.exp(-t ** 2 / 2)
    # weight k = 2 * trapezoid(e_k * phi): the rule applied to the k-th basis vector
    w = np.array([2 * trapezoid(np.eye(17)[k] * phi, t) for k in range(17)])
    np.testing.assert_allclose(mod.t.numpy(), t, rtol=0, atol=1e-15)
    np.testing.assert_allclose(mod.phi.numpy(), phi, rtol=1e-15)
    np.testing.assert_allclose(mod.weights.numpy(), w, rtol=1e-14)
    # and the rule integrates the Gaussian window: sum w = 2 ∫_0^3 exp(-t²/2) dt up to the
    # trapezoid error, dt²/12 * |phi'(3) - phi'(0)| * 2 ≈ 1.5e-4 here
    exact = math.sqrt(2 * math.pi) * math.erf(3 / math.sqrt(2))
    assert abs(w.sum() - exact) < 2e-4


def _eager(mod, h, a):
    mod.fused = False
    return mod.statistic(h, a)


def _fused_uncompiled(mod, h, a):
    """The fused path's autograd.Function with its kernels left uncompiled (same math)."""
    y = (a.T @ h.transpose(-1, -2)).reshape(-1, h.shape[-2])
    t0 = mod.t_max / (mod.num_knots - 1)
    return _FusedECF.apply(y, t0, mod.phi, mod.weights, (_ecf_mean_forward, _ecf_mean_backward))


def _agreement(ours_fn, dtype, shape):
    g = torch.Generator().manual_seed(0)
    h = (1.3 * torch.randn(*shape, generator=g, dtype=dtype) + 0.2).requires_grad_()
    mod = SIGReg()
    a = mod.directions(shape[-1], dtype=dtype)
    ours, ref = ours_fn(mod, h, a), reference_sigreg(h, a, weight_dtype=dtype)
    g1, = torch.autograd.grad(ours, h)
    g2, = torch.autograd.grad(ref, h)
    return abs(ours.item() - ref.item()) / abs(ref.item()), ((g1 - g2).norm() / g2.norm()).item()


# float32: both sides round each of the B-term means at ~1e-7 relative, and the statistic
# is a difference (ECF - phi) of such means; 1e-5 is the required agreement.
# float64 (both with float64 weights): the same at ~1e-16, with 1e-12 as required.
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize("shape", [(256, 64), (2048, 8), (2, 300, 3)])
@pytest.mark.parametrize("ours_fn", [_eager, _fused_uncompiled])
def test_sigreg_kernels_equal_reference(ours_fn, dtype, tol, shape):
    stat_err, grad_err = _agreement(ours_fn, dtype, shape)
    assert stat_err <= tol and grad_err <= tol


@pytest.mark.slow  # compiles two kernels per dtype: 4 s of CPU with a warm cache, 30+ s cold
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize("kernel", ["compiled", "cpp"])   # cpp: float32 only, else compiled
def test_compiled_sigreg_equals_reference(dtype, tol, kernel, monkeypatch):
    monkeypatch.setenv("PYCHECK_SIGREG_KERNEL", kernel)

    def compiled(mod, h, a):
        mod.fused = True
        return mod.statistic(h, a)
    assert objectives._fused_kernels(torch.zeros(1, dtype=dtype), 17) is not None
    for shape in [(256, 64), (2, 300, 3)]:
        stat_err, grad_err = _agreement(compiled, dtype, shape)
        assert stat_err <= tol and grad_err <= tol


_CHILD = """
import torch
from pycheck.objectives import SIGReg
h = torch.randn(300, 5, generator=torch.Generator().manual_seed(1)).requires_grad_()
mod = SIGReg()
mod.fused = True
stat = mod(h)
stat.backward()
print(stat.item().hex(), h.grad.double().sum().item().hex(), h.grad.abs().max().item().hex())
"""


@pytest.mark.slow  # two interpreters compiling (from torch's on-disk cache after the first)
@pytest.mark.parametrize("kernel", ["compiled", "cpp"])
def test_compiled_sigreg_bit_identical_across_processes(kernel):
    env = dict(os.environ, PYCHECK_SIGREG_COMPILE="1", PYCHECK_SIGREG_KERNEL=kernel)
    runs = [subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                           check=True, env=env).stdout for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0].split()) == 3


_OMP_CHILD = """
import torch
from torch._inductor.utils import run_and_get_code
from pycheck import objectives
kernels, codes = run_and_get_code(objectives._fused_kernels, torch.zeros(1), 17)
print(kernels is not None, len(codes), sum("#pragma omp parallel" in c for c in codes))
"""


@pytest.mark.slow  # one interpreter compiling two kernels (7 s with torch's disk cache warm)
def test_compiled_cpu_kernels_have_parallel_loops():
    """Both CPU kernels contain a parallel loop. Compiled as before (2 x 3 probe, thread
    count fixed at compile time) neither did: one core at every size."""
    env = dict(os.environ, PYCHECK_SIGREG_KERNEL="compiled")    # not the C++ default
    out = subprocess.run([sys.executable, "-c", _OMP_CHILD], capture_output=True, text=True,
                         check=True, env=env).stdout.split()
    assert out == ["True", "2", "2"]


def test_compiled_is_the_default_unless_disabled(monkeypatch):
    monkeypatch.delenv("PYCHECK_SIGREG_COMPILE", raising=False)
    assert objectives.compile_enabled()
    monkeypatch.setenv("PYCHECK_SIGREG_COMPILE", "0")
    assert not objectives.compile_enabled()


def test_failed_compile_warns_and_falls_back_to_eager(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no compiler")
    monkeypatch.setattr(torch, "compile", broken)
    monkeypatch.setattr(objectives, "_FUSED", {})
    h = torch.randn(64, 3, dtype=torch.float64)
    mod = SIGReg()
    a = mod.directions(3, dtype=torch.float64)
    mod.fused = True
    with pytest.warns(RuntimeWarning, match="torch.compile failed"):
        fused = mod.statistic(h, a)
    mod.fused = False
    assert fused.item() == mod.statistic(h, a).item()


def test_bench_parallel_worker_times_a_one_thread_run(monkeypatch):
    """The side-by-side runs of `pycheck bench` (run in-process here: spawning two
    interpreters per objective costs tens of seconds)."""
    from pycheck import bench

    class Barrier:
        waited = 0

        def wait(self):
            Barrier.waited += 1
    threads = torch.get_num_threads()
    monkeypatch.setattr(bench, "_BARRIER", Barrier())
    try:
        rate = bench._parallel_worker(("vicreg", 3, 32, 0.05))
    finally:
        torch.set_num_threads(threads)
    assert Barrier.waited == 1 and 0 < rate < float("inf")


@pytest.mark.slow  # compiles the two float32 kernels if no earlier test did (~7 s warm cache)
def test_compiled_kernels_serve_every_shape_without_recompiling(monkeypatch):
    """One kernel pair for all slice counts, batch sizes and stackings of views: with the
    probe square (256 x 256) dynamo tied rows to columns and recompiled at the first call
    where they differ; with the probe a view, at the first h of shape (1, B, n)."""
    import torch._dynamo
    monkeypatch.setenv("PYCHECK_SIGREG_KERNEL", "compiled")      # not the C++ default
    mod = SIGReg()
    mod.fused = True
    assert objectives._fused_kernels(torch.zeros(1), 17) is not None
    with torch._dynamo.config.patch(error_on_recompile=True):
        for views, batch, n, slices in [(1, 256, 8, 256), (2, 512, 3, 256), (1, 1000, 5, 64),
                                        (2, 64, 16, 128), (None, 256, 8, 128),
                                        (None, 384, 4, 256)]:
            mod.num_slices = slices
            shape = (batch, n) if views is None else (views, batch, n)
            h = torch.randn(*shape).requires_grad_()
            mod(h).backward()
            assert torch.isfinite(h.grad).all()

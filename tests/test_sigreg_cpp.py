"""The opt-in C++ SIGReg kernels (``PYCHECK_SIGREG_KERNEL=cpp``, pycheck.sigreg_cpp) equal
LeJEPA's reference computation, do not depend on the thread count, and apply only where
they are written for (CPU, float32, 17 knots)."""
import json
import shutil
from pathlib import Path

import pytest
import torch

from pycheck import objectives, sigreg_cpp
from pycheck.bench import reference_sigreg

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cpp(monkeypatch):
    monkeypatch.setenv("PYCHECK_SIGREG_KERNEL", "cpp")
    kernels = sigreg_cpp.kernels(torch.zeros(1), 17)     # builds at first use (~50 s cold)
    if kernels is None:
        if shutil.which("g++") and shutil.which("ninja"):
            pytest.fail("the C++ kernels did not build on a machine with g++ and ninja")
        pytest.skip("no g++ or ninja: the C++ kernels cannot be built here")
    return kernels


def _stat_and_grad(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = (1.3 * torch.randn(*shape, generator=g) + 0.2).requires_grad_()
    mod = SIGRegFused()
    a = mod.directions(shape[-1])
    stat = mod.statistic(h, a)
    grad, = torch.autograd.grad(stat, h)
    return h, a, stat, grad


class SIGRegFused(objectives.SIGReg):
    def __init__(self):
        super().__init__()
        self.fused = True


# 1e-5: the required float32 agreement (each side rounds B-term means at ~1e-7).
# The node's backward takes another product below 9 dimensions (session 41): 8 and 9 are
# the two sides of that line
@pytest.mark.parametrize("shape", [(256, 64), (2048, 8), (2, 300, 3), (7, 2), (2, 130, 8),
                                   (2, 130, 9)])
def test_cpp_kernels_equal_reference(cpp, shape):
    h, a, stat, grad = _stat_and_grad(shape)
    assert objectives._fused_kernels(h, 17) == cpp
    ref = reference_sigreg(h, a, weight_dtype=torch.float32)
    ref_grad, = torch.autograd.grad(ref, h)
    assert abs(stat.item() - ref.item()) <= 1e-5 * abs(ref.item())
    assert (grad - ref_grad).norm() <= 1e-5 * ref_grad.norm()


def test_cpp_kernels_do_not_depend_on_the_thread_count(cpp):
    """Each slice is summed by one thread in a fixed order (and the rows' statistics in row
    order), so 1 and 2 threads give the same bits; the compiled kernels do not promise it."""
    before = torch.get_num_threads()
    try:
        runs = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            _, _, stat, grad = _stat_and_grad((512, 16), seed=3)
            runs.append((stat.item(), grad))
    finally:
        torch.set_num_threads(before)
    assert runs[0][0] == runs[1][0] and torch.equal(runs[0][1], runs[1][1])


def test_cpp_kernels_apply_only_to_cpu_float32_with_17_knots(cpp):
    assert sigreg_cpp.kernels(torch.zeros(1, dtype=torch.float64), 17) is None
    assert sigreg_cpp.kernels(torch.zeros(1), 9) is None
    assert objectives._fused_kernels(torch.zeros(1, dtype=torch.float64), 17) != cpp


def test_bench_says_when_it_times_the_cpp_kernels(cpp, capsys):
    from pycheck import bench
    assert bench._kernel_name(objectives._fused_kernels(torch.zeros(1), 17)) == "cpp"
    assert bench._kernel_name(None) == "eager"
    # session 29's run with the C++ kernels, written before the bench recorded which ran
    res = json.loads((ROOT / "results" / "bench" / "bench_s29_cpp_run1.json").read_text())
    bench._print(res)
    assert "PYCHECK_SIGREG_KERNEL" not in capsys.readouterr().out.splitlines()[1]
    bench._print(dict(res, sigreg_kernel="cpp"))
    out = capsys.readouterr().out
    assert "the C++ kernels" in out.splitlines()[1]
    bench._print(dict(res, sigreg_kernel="compiled"))
    assert "PYCHECK_SIGREG_KERNEL=compiled" in capsys.readouterr().out.splitlines()[1]


def test_cpp_sincos_is_float32_accurate_and_falls_back_beyond_8192(cpp):
    """The forward's own cos and sin (Cephes' polynomials, session 30) against float64 math
    of the same float32 angles: within float32's epsilon (1.2e-7; Cephes' peak relative error
    on its reduced interval is 6.8e-8, plus one rounding) over the whole |theta| <= 8192 range,
    the octant boundaries k pi / 4 included. A slice with an angle beyond 8192 takes std::cos
    and std::sin (the three-part reduction is exact only below), and NaN / inf give a NaN
    statistic as torch's functions do."""
    g = torch.Generator().manual_seed(0)
    theta = torch.cat([torch.linspace(-8192, 8192, 2 ** 18),
                       torch.arange(-4096, 4096) * torch.pi / 4,
                       3 * torch.randn(2 ** 16, generator=g)]).float().reshape(-1, 256)
    ones = torch.ones(17, dtype=torch.float64)
    eps = torch.finfo(torch.float32).eps
    c, s, *_ = sigreg_cpp.forward(theta, 1.0, ones, ones)
    assert (c.double() - theta.double().cos()).abs().max() <= eps
    assert (s.double() - theta.double().sin()).abs().max() <= eps
    wide = theta.clone()
    wide[3, 5] = 9000.5
    c, s, *_ = sigreg_cpp.forward(wide, 1.0, ones, ones)
    assert (c[3].double() - wide[3].double().cos()).abs().max() <= eps
    assert (s[3].double() - wide[3].double().sin()).abs().max() <= eps
    for bad in (float("nan"), float("inf")):
        y = theta.clone()
        y[1, 1] = bad
        assert sigreg_cpp.forward(y, 1.0, ones, ones)[4].isnan()


def test_sigreg_is_one_cpp_node_with_the_gradient_of_the_kernels(cpp):
    """Since session 39 SIGReg.statistic is one C++ autograd node (projection, statistic and
    gradient in one pass): the same statistic with and without a gradient, views given as a
    sequence or stacked, and a gradient equal to the two-kernel path's (ecf_statistic on the
    projections, through _FusedECF) to float32 rounding (1e-6: the polynomial is summed by
    Horner's scheme there, from the harmonics there)."""
    g = torch.Generator().manual_seed(5)
    h = torch.randn(2, 384, 6, generator=g).requires_grad_()
    mod = SIGRegFused()
    a = mod.directions(6)
    stat = mod.statistic(h, a)
    assert type(stat.grad_fn).__name__ == "CppFunction"
    grad, = torch.autograd.grad(3.0 * stat, h)
    with torch.no_grad():
        assert mod.statistic(h, a).item() == stat.item()
    assert mod.statistic([h[0], h[1]], a).item() == stat.item()
    y = (a.T @ h.reshape(-1, 6).T).reshape(-1, 384)
    two = objectives.ecf_statistic(y, mod.t_max / (mod.num_knots - 1), mod.phi, mod.weights,
                                   fused=True)
    assert type(two.grad_fn).__name__ == "_FusedECFBackward"
    grad_two, = torch.autograd.grad(3.0 * two, h)
    assert abs(two.item() - stat.item()) <= 1e-6 * stat.item()
    assert (grad - grad_two).norm() <= 1e-6 * grad_two.norm()


def test_sigreg_kernel_is_cpp_by_default_and_checked(monkeypatch):
    monkeypatch.delenv("PYCHECK_SIGREG_KERNEL", raising=False)
    assert objectives.sigreg_kernel() == "cpp"
    monkeypatch.setenv("PYCHECK_SIGREG_KERNEL", "compiled")
    assert objectives.sigreg_kernel() == "compiled"
    assert objectives._whole_cpp(torch.zeros(2, 2), torch.zeros(2, 3), 17, True) is None
    monkeypatch.setenv("PYCHECK_SIGREG_KERNEL", "cuda")
    mod = SIGRegFused()                          # the suite runs eager unless asked
    with pytest.raises(ValueError, match="PYCHECK_SIGREG_KERNEL must be one of cpp, compiled"):
        mod(torch.randn(8, 2))


def test_sigreg_node_refuses_a_second_derivative(cpp):
    """Its backward scales a gradient saved without a graph: create_graph=True would give a
    second derivative of zero without a word, so it raises."""
    h = torch.randn(64, 3).requires_grad_()
    mod = SIGRegFused()
    stat = mod.statistic(h, mod.directions(3))
    with pytest.raises(RuntimeError, match="differentiable once"):
        torch.autograd.grad(stat, h, create_graph=True)


@pytest.mark.parametrize("batch, n, slices, scale", [(65536, 2, 4, 1.0), (16, 2, 16384, 1e-6)])
def test_cpp_sums_keep_float32_precision_at_large_batches_and_slice_counts(cpp, batch, n,
                                                                          slices, scale):
    """One float32 sum over a batch of 65 536 gave the statistic 6e-5 from float64 and 16 384
    slices at scale 1e-6 1.2e-4 (a user's trial, session 42); blocks of 4096 samples and
    1024 rows summed in float64 keep it near 1e-6 (measured 8.7e-7 and 4.4e-6:
    results/bench/sigreg_block_sums_s42.txt). Tolerance 2e-5: 2-5x the measured error and
    3-6x below the unblocked one."""
    g = torch.Generator().manual_seed(batch + slices)
    h = scale * torch.randn(batch, n, generator=g, dtype=torch.float64)
    a = torch.nn.functional.normalize(torch.randn(n, slices, generator=g,
                                                  dtype=torch.float64), dim=0)
    mod = SIGRegFused()
    exact = objectives.SIGReg(slices)
    exact.fused = False
    ref = exact.statistic(h, a).item()
    got = mod.statistic(h.float(), a.float())
    assert type(got.grad_fn).__name__ == "CppFunction" or got.grad_fn is None
    assert abs(got.item() - ref) <= 2e-5 * abs(ref)


def test_a_lock_left_by_an_interrupted_load_does_not_hang_the_next_one(cpp, tmp_path):
    """Session 43: torch takes a lock file for every load of a cached extension, and a
    process killed while holding it (Ctrl-C at start-up) left it behind; every later load
    waited for it forever, silently (a user's trial hung the test suite). Now the load holds
    an flock of its own and deletes such a file (sigreg_cpp._no_stale_torch_lock)."""
    import subprocess
    import sys
    from torch.utils.cpp_extension import _get_build_directory
    ext = sigreg_cpp._extension()        # built and loaded here: the next load is cached
    if ext is None:
        pytest.skip("the C++ kernels cannot be built here")
    lock = Path(_get_build_directory(ext.__name__, verbose=False)) / "lock"
    lock.touch()
    try:
        r = subprocess.run([sys.executable, "-c", "from pycheck import sigreg_cpp; "
                            "print(sigreg_cpp._extension() is not None)"],
                           capture_output=True, text=True, timeout=300)
    finally:
        lock.unlink(missing_ok=True)
    assert r.returncode == 0 and r.stdout.strip() == "True", r.stderr[-2000:]
    assert f"removed {lock}, left by a build or load that was interrupted" in r.stderr


def test_a_time_limit_signal_during_the_build_is_not_taken_for_a_failed_build(monkeypatch):
    """Session 43 (a user's SLURM trial): submitit's USR2 handler raises UncompletedJobError
    (a RuntimeError) when the time limit nears; arriving during the build, it was caught as
    a failed build, the job went on with the fallback kernels and stored other numbers.
    A real build failure still falls back with a warning."""
    import torch.utils.cpp_extension as ce
    submitit = pytest.importorskip("submitit")

    def timed_out(*args, **kwargs):
        raise submitit.core.utils.UncompletedJobError("Job not requeued because: timed-out")
    monkeypatch.setattr(ce, "load_inline", timed_out)
    with pytest.raises(submitit.core.utils.UncompletedJobError):
        sigreg_cpp.build("probe", "// nothing", [], "probe", "nothing")

    def broken(*args, **kwargs):
        raise RuntimeError("Error building extension 'probe'")
    monkeypatch.setattr(ce, "load_inline", broken)
    with pytest.warns(RuntimeWarning, match="building the C..? kernels failed"):
        assert sigreg_cpp.build("probe", "// nothing", [], "probe", "nothing") is False


def test_a_load_waiting_for_another_process_says_so(cpp):
    """While another process holds the build folder's flock (building, ~30-60 s cold), a
    load says what it waits for instead of hanging silently, then goes on."""
    import fcntl
    import subprocess
    import sys
    import time
    from torch.utils.cpp_extension import _get_build_directory
    ext = sigreg_cpp._extension()
    if ext is None:
        pytest.skip("the C++ kernels cannot be built here")
    folder = Path(_get_build_directory(ext.__name__, verbose=False))
    with open(folder / "pycheck.flock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        p = subprocess.Popen([sys.executable, "-c", "from pycheck import sigreg_cpp; "
                              "print(sigreg_cpp._extension() is not None)"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # its import (~2 s) plus the quiet wait (LOCK_QUIET_SECONDS) before it says so
        time.sleep(3 + 2 * sigreg_cpp.LOCK_QUIET_SECONDS)
        assert p.poll() is None                 # it waits for the flock
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0 and out.strip() == "True", err[-2000:]
    assert "waiting for another pycheck process" in err
    assert f"building or loading the C++ kernels in {folder}" in err


def test_a_short_wait_for_a_sibling_is_not_said(cpp, capfd):
    """Session 47 (a trial): a --jobs 2 run printed the wait message although the kernels
    were built long before: its sibling worker held the flock for a moment while loading
    them. A wait shorter than LOCK_QUIET_SECONDS passes silently."""
    import fcntl
    import threading
    from torch.utils.cpp_extension import _get_build_directory
    ext = sigreg_cpp._extension()
    if ext is None:
        pytest.skip("the C++ kernels cannot be built here")
    folder = Path(_get_build_directory(ext.__name__, verbose=False))
    with open(folder / "pycheck.flock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)       # another open file: it blocks this process too
        threading.Timer(0.3, fcntl.flock, (held, fcntl.LOCK_UN)).start()
        with sigreg_cpp._no_stale_torch_lock(ext.__name__):
            pass
    assert "waiting for another pycheck process" not in capfd.readouterr().err


def test_a_cold_build_says_so_and_is_timed(monkeypatch, capfd):
    """Session 50 (a user's trial): a first `pycheck reproduce` printed nothing for a minute
    while the kernels were built, and the build sat inside the first run's timings. A cold
    build now says so on stderr, and BUILD_SECONDS counts it (reproduce prebuilds before
    the experiment, tests/test_cli.py)."""
    import time
    import torch.utils.cpp_extension as ce

    def slow_build(*args, **kwargs):
        time.sleep(0.2)
        return "built"
    monkeypatch.setattr(ce, "load_inline", slow_build)
    before = sigreg_cpp.BUILD_SECONDS
    monkeypatch.setattr(sigreg_cpp, "_built", lambda name: False)
    assert sigreg_cpp.build("probe", "// nothing", [], "probe", "nothing") == "built"
    assert "building the C++ kernels of the probe (once per installation" in capfd.readouterr().err
    assert sigreg_cpp.BUILD_SECONDS - before >= 0.2
    monkeypatch.setattr(sigreg_cpp, "_built", lambda name: True)     # cached: said nothing
    assert sigreg_cpp.build("probe", "// nothing", [], "probe", "nothing") == "built"
    assert "building" not in capfd.readouterr().err


def test_built_finds_the_cached_extension(cpp):
    ext = sigreg_cpp._extension()
    if ext is None:
        pytest.skip("the C++ kernels cannot be built here")
    assert sigreg_cpp._built(ext.__name__)
    assert not sigreg_cpp._built(ext.__name__ + "_never_built")

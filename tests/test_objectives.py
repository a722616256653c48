"""Properties of the objectives, and our SIGReg equals LeJEPA's reference computation."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pycheck import objectives
from pycheck.bench import reference_sigreg
from pycheck.objectives import SIGReg, alignment, infonce, make_objective, vicreg


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize("shape", [(512, 8), (2, 300, 3)])
def test_sigreg_equals_lejepa_reference(dtype, tol, shape):
    g = torch.Generator().manual_seed(0)
    h = (1.3 * torch.randn(*shape, generator=g, dtype=dtype) + 0.2).requires_grad_()
    mod = SIGReg()
    a = mod.directions(shape[-1], dtype=dtype)
    ours, ref = mod.statistic(h, a), reference_sigreg(h, a, weight_dtype=dtype)
    assert abs(ours.item() - ref.item()) <= tol * abs(ref.item())
    g1, = torch.autograd.grad(ours, h)
    g2, = torch.autograd.grad(ref, h)
    assert (g1 - g2).abs().max() <= 10 * tol * g2.abs().max()  # gradient too (10x: sums of B terms)


def test_sigreg_small_for_gaussian_large_otherwise():
    g = torch.Generator().manual_seed(1)
    gauss = torch.randn(4096, 4, generator=g)
    unif = (torch.rand(4096, 4, generator=g) - 0.5) * 12 ** 0.5   # unit variance, not Gaussian
    mod = SIGReg(seed=0)
    s_gauss, s_unif, s_shrunk = mod(gauss).item(), mod(unif).item(), mod(0.5 * gauss).item()
    # under H0 the B-scaled statistic stays O(1) (about 0.9 here), under H1 it grows like B
    assert s_gauss < 2.0
    assert s_unif > 5 * s_gauss and s_shrunk > 20 * s_gauss


def test_vicreg_zero_at_whitened():
    x = torch.randn(4096, 5, dtype=torch.float64)
    x = x - x.mean(0)
    evals, evecs = torch.linalg.eigh(x.T @ x / (x.shape[0] - 1))
    white = x @ evecs @ torch.diag(evals.rsqrt()) @ evecs.T
    assert vicreg(white, eps=0.0).item() < 1e-12
    assert vicreg(0.5 * white).item() > 0.4          # collapsed variance is penalised
    mixed = white @ torch.tensor(np.eye(5) + 0.5 * np.eye(5, k=1))
    assert vicreg(mixed).item() > 0.05               # correlated coordinates are penalised


def test_infonce_prefers_aligned_positives():
    g = torch.Generator().manual_seed(2)
    h = torch.randn(256, 3, generator=g)
    good = infonce(h, h + 0.1 * torch.randn(256, 3, generator=g))
    bad = infonce(h, torch.randn(256, 3, generator=g))
    assert good < bad
    assert bad.item() > 0.9 * np.log(256)  # random pairs: no better than chance, log B


def test_alignment_and_factory():
    h = torch.zeros(4, 2)
    assert alignment(h, h + 1).item() == 2.0
    for name in ("sigreg", "vicreg", "infonce"):
        loss, parts = make_objective(name)(torch.randn(64, 2), torch.randn(64, 2))
        assert torch.isfinite(loss) and "loss" in parts
    with pytest.raises(ValueError, match="unknown objective"):
        make_objective("barlow")
    with pytest.raises(ValueError, match="unknown option"):
        make_objective("vicreg", sigma=1.0)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_sigreg_views_as_a_sequence_equal_the_stacked_tensor_and_the_reference(dtype, tol):
    """make_objective('sigreg') passes (h, h') without stacking them: the same statistic and
    gradients as the stacked (2, B, n) tensor and as LeJEPA's reference on it (the two
    paths differ only in the order of the rows being averaged)."""
    g = torch.Generator().manual_seed(3)
    hb = (torch.randn(600, 5, generator=g, dtype=dtype) * 1.2 - 0.1).requires_grad_()
    h, hn = hb[:300], hb[300:]
    mod = SIGReg(num_slices=64)
    a = mod.directions(5, dtype=dtype)
    seq, stacked = mod.statistic((h, hn), a), mod.statistic(torch.stack([h, hn]), a)
    ref = reference_sigreg(torch.stack([h, hn]), a, weight_dtype=dtype)
    g_seq, = torch.autograd.grad(seq, hb)
    g_stacked, = torch.autograd.grad(stacked, hb)
    g_ref, = torch.autograd.grad(ref, hb)
    for value, grad in ((stacked, g_stacked), (ref, g_ref)):
        assert abs(seq.item() - value.item()) <= tol * abs(value.item())
        assert (g_seq - grad).abs().max() <= 10 * tol * grad.abs().max()
    # and each view counts: the pair's statistic is the mean of the two views' statistics
    both = 0.5 * (mod.statistic(h, a) + mod.statistic(hn, a))
    assert abs(seq.item() - both.item()) <= tol * abs(both.item())


def test_sigreg_views_as_a_sequence_must_share_one_2d_shape():
    mod = SIGReg(num_slices=8)
    h = torch.randn(10, 3)
    for bad in ([], [h, torch.randn(9, 3)], [torch.randn(2, 10, 3)]):
        with pytest.raises(ValueError, match="one shape"):
            mod(bad)


@pytest.mark.parametrize("name", ["sigreg", "vicreg"])
def test_scale_free_alignment(name):
    """scale_free divides the alignment by the batch's mean variance: on a batch of mean
    variance exactly 1 it equals the plain term; scaling both views by c leaves it
    unchanged (the plain term grows by c²); its gradient has no component along h itself
    (Euler: a scale-invariant function's gradient is orthogonal to its argument), i.e. no
    shrinking force. The regulariser part is the plain one."""
    g = torch.Generator().manual_seed(3)
    h, hn = torch.randn(128, 3, generator=g, dtype=torch.float64), \
        torch.randn(128, 3, generator=g, dtype=torch.float64)
    s = (0.5 * (h.var(0).mean() + hn.var(0).mean())).sqrt()
    h, hn = h / s, hn / s                                  # mean variance exactly 1
    plain = make_objective(name, lam=1.0)(h, hn)[1]
    def free(a, b):    # a fresh objective: SIGReg's directions are those of plain's call
        return make_objective(name, lam=1.0, scale_free=True)(a, b)
    assert free(h, hn)[1]["alignment"] == pytest.approx(plain["alignment"], rel=1e-12)
    assert free(h, hn)[1][name] == pytest.approx(plain[name], rel=1e-12)
    scaled = free(3 * h, 3 * hn)[1]["alignment"]
    assert scaled == pytest.approx(plain["alignment"], rel=1e-12)
    assert make_objective(name, lam=1.0)(3 * h, 3 * hn)[1]["alignment"] == \
        pytest.approx(9 * plain["alignment"], rel=1e-12)
    a, an = h.clone().requires_grad_(), hn.clone().requires_grad_()
    (alignment(a, an) / 3 / (0.5 * (a.var(0).mean() + an.var(0).mean()))).backward()
    radial = (a.grad * a).sum() + (an.grad * an).sum()
    assert abs(radial.item()) < 1e-12 * (a.grad.norm() * a.norm()).item()
    with pytest.raises(ValueError, match="scale_free"):
        make_objective(name, scale_free="yes")


def test_sigreg_orthogonal_directions_are_orthonormal_blocks_uniform_on_the_sphere():
    mod = SIGReg(num_slices=10, seed=3, orthogonal=True)
    a = mod.directions(4, dtype=torch.float64)
    assert a.shape == (4, 10)
    # blocks of 4 orthonormal columns (the last block cut to 2 columns)
    for cols in (slice(0, 4), slice(4, 8), slice(8, 10)):
        gram = a[:, cols].T @ a[:, cols]
        assert torch.allclose(gram, torch.eye(gram.shape[0], dtype=torch.float64), atol=1e-12)
    # a different block is a different rotation (not a copy)
    assert (a[:, :4] - a[:, 4:8]).abs().max() > 0.1
    # seeded: the same module seed gives the same directions
    again = SIGReg(num_slices=10, seed=3, orthogonal=True).directions(4, dtype=torch.float64)
    assert torch.equal(a, again)
    # each column uniform on the sphere: E[a_1] = 0 and E[a_1 a_1ᵀ] = I / 4 for the first
    # column of 4000 blocks (Haar QR with the sign fix; without it the first column's mean
    # is biased); tolerance ~6 standard errors of the mean of 4000 draws (se 0.008 / 0.004)
    many = SIGReg(num_slices=4000 * 4, seed=0, orthogonal=True).directions(4, dtype=torch.float64)
    first = many[:, ::4]
    assert first.mean(1).abs().max() < 0.05
    assert (first @ first.T / first.shape[1] - torch.eye(4, dtype=torch.float64) / 4).abs().max() < 0.025
    # fewer slices than dimensions: orthonormal columns
    b = SIGReg(num_slices=3, orthogonal=True).directions(8, dtype=torch.float64)
    assert torch.allclose(b.T @ b, torch.eye(3, dtype=torch.float64), atol=1e-12)


def test_sigreg_orthogonal_option_is_checked_and_passed_through():
    with pytest.raises(ValueError, match="orthogonal"):
        SIGReg(orthogonal=1)
    loss = make_objective("sigreg", orthogonal=True, num_slices=8, lam=0.01)
    h = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    value, parts = loss(h, h + 0.1)
    assert torch.isfinite(value) and parts["sigreg"] > 0


@pytest.mark.parametrize("opts, match", [
    ({"lam": "0.1"}, "lam must be a number"),          # float("0.1") had accepted it
    ({"lam": True}, "lam must be a number"),
    ({"t_max": "3"}, "t_max='3'"),                       # a TypeError inside SIGReg
    ({"t_max": True}, "t_max=True"),                     # had become 1.0
])
def test_objective_options_must_be_real_numbers(opts, match):
    from pycheck.objectives import make_objective
    with pytest.raises(ValueError, match=match):
        make_objective("sigreg", **opts)


def _infonce_autograd(h, hn, sigma):
    """InfoNCE as written before session 39: autograd through two cross-entropies."""
    logits, labels = objectives._infonce_logits(h, hn, sigma)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


# float64: both forms are exact up to ~1e-15 rounding (1e-11 leaves room for B = 300 terms);
# float32: both round B-term sums at ~1e-7, 1e-5 as for SIGReg
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-11), (torch.float32, 1e-5)])
@pytest.mark.parametrize("sigma", [1.0, 0.3])
def test_infonce_hand_written_backward_equals_autograd(dtype, tol, sigma):
    g = torch.Generator().manual_seed(2)
    h = (0.4 * torch.randn(300, 5, generator=g)).to(dtype)
    hn = h + 0.2 * torch.randn(300, 5, generator=g).to(dtype)
    h.requires_grad_(), hn.requires_grad_()
    ours, ref = infonce(h, hn, sigma), _infonce_autograd(h, hn, sigma)
    for want_h in (True, False):        # an upstream factor, and one input without a gradient
        inputs = (h, hn) if want_h else (hn,)
        got = torch.autograd.grad(2.5 * infonce(h, hn, sigma), inputs)
        exp = torch.autograd.grad(2.5 * _infonce_autograd(h, hn, sigma), inputs)
        for a, b in zip(got, exp):
            assert (a - b).norm() <= tol * b.norm()
    assert abs(ours.item() - ref.item()) <= tol * abs(ref.item())


def test_infonce_refuses_a_second_derivative():
    h = torch.randn(16, 3).requires_grad_()
    loss = infonce(h, h + 0.1)
    with pytest.raises(RuntimeError):
        g, = torch.autograd.grad(loss, h, create_graph=True)
        g.sum().backward()


@pytest.mark.parametrize("fused, dtype", [(False, torch.float64), (False, torch.float32),
                                          (True, torch.float64), (True, torch.float32)])
def test_sigreg_refuses_a_second_derivative_on_every_path(fused, dtype):
    """With create_graph=True the eager and compiled paths returned a gradient without a
    graph: a second derivative came out as that of a constant (session 42, a user's trial);
    every path now raises as the C++ node does, and a plain backward still works."""
    x = torch.randn(64, 3, dtype=dtype, requires_grad=True)
    m = SIGReg(64)
    m.fused = fused
    with pytest.raises(RuntimeError, match="differentiable once"):
        torch.autograd.grad(m(x), x, create_graph=True)
    m(x).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_objectives_name_bad_views_and_settings():
    """Session 42 (a user's trial): InfoNCE took views of other shapes ((8, 3) against
    (1, 3)) and a batch of 1 (-0.0, no gradient); SIGReg and VICReg raised torch's
    broadcasting error from the alignment; sigma 1e-30 failed inside the matmul, t_max 1e30
    silently gave 0 and seed 2**64 an error not naming the seed."""
    from pycheck.objectives import infonce, make_objective
    a, b = torch.randn(8, 3), torch.randn(8, 3)
    for name in ("infonce", "sigreg", "vicreg"):
        loss = make_objective(name)
        for other in (torch.randn(1, 3), torch.randn(8, 2), b.double()):
            with pytest.raises(ValueError, match="the two views must be"):
                loss(a, other)
    with pytest.raises(ValueError, match="at least 2 rows"):
        infonce(a[:1], b[:1])
    for sigma, match in ((0, "sigma must be a finite number > 0"), (-1, "> 0"),
                         (1e-30, "too small")):
        with pytest.raises(ValueError, match=match):
            infonce(a, b, sigma)
        with pytest.raises(ValueError, match=match):
            make_objective("infonce", sigma=sigma)
    with pytest.raises(ValueError, match="t_max = 1e\\+30 is too large"):
        SIGReg(t_max=1e30)
    with pytest.raises(ValueError, match="seed must fit in 64 bits"):
        SIGReg(seed=2 ** 64)
    assert torch.isfinite(SIGReg(t_max=30.0)(torch.randn(64, 2)))   # still allowed

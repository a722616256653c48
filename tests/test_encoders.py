"""The encoders' forward passes: RealNVPEncoder's split-halves forward is the chain of its
couplings (bit for bit), and Adam's multi-tensor update is the per-parameter one."""
import numpy as np
import pytest
import torch

from pycheck import encoders as enc
from pycheck.encoders import RealNVPEncoder


@pytest.mark.parametrize("dim", [2, 5, 8])
def test_realnvp_encoder_forward_is_the_chain_of_its_couplings_bit_for_bit(dim):
    """RealNVPEncoder.forward carries the two halves separately (session 10, for speed);
    output, input gradient and every parameter gradient equal those of applying each
    coupling's own forward (clone + slice assignment) in turn, bit for bit."""
    torch.manual_seed(0)
    enc = RealNVPEncoder(dim, seed=1)
    with torch.no_grad():  # couplings away from the identity (they start there)
        for p in enc.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(64, dim, requires_grad=True)
    w = torch.randn(64, dim)

    def chained(x):
        for c in enc.couplings:
            x = c(x)
        return enc.linear(x)
    results = []
    for fn in (enc, chained):
        out = fn(x)
        grads = torch.autograd.grad((out * w).sum(), [x, *enc.parameters()])
        results.append([out.detach(), *grads])
    assert not torch.equal(results[0][0], x.detach())  # not the identity map
    for a, b in zip(*results):
        assert torch.equal(a, b)


def test_fused_adam_matches_the_default_loop_to_rounding():
    """The trainers pass fused=True to Adam: the same update as the default loop, rounded
    differently. Twenty steps on the same gradients agree to 2e-6 relative (float32 epsilon
    1.2e-7 times 20 steps with a margin), and every parameter moved by far more."""
    g = torch.Generator().manual_seed(0)
    shapes = [(30, 20), (20,), (7, 3, 2)]
    start = [torch.randn(s, generator=g) for s in shapes]
    grads = [[torch.randn(s, generator=g) for s in shapes] for _ in range(20)]
    final = []
    for kw in ({}, {"fused": True}):
        params = [p.clone().requires_grad_() for p in start]
        opt = torch.optim.Adam(params, lr=1e-2, **kw)
        for step in grads:
            for p, gr in zip(params, step):
                p.grad = gr.clone()
            opt.step()
        final.append(params)
    for a, b, s in zip(*final, start):
        assert (a - s).abs().median() > 1e-2    # the steps moved the parameters (lr 1e-2)
        torch.testing.assert_close(a, b, rtol=2e-6, atol=2e-6)


def test_weight_average_equals_torch_averaged_model_bit_for_bit():
    """train.WeightAverage computes what AveragedModel with get_ema_multi_avg_fn does."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    from pycheck.train import WeightAverage
    torch.manual_seed(0)
    f = RealNVPEncoder(6, seed=1)
    ref = AveragedModel(f, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    ours = WeightAverage(f, 0.9)
    for _ in range(20):
        with torch.no_grad():
            for p in f.parameters():
                p.add_(torch.randn_like(p))
        ref.update_parameters(f)
        ours.update_parameters(f)
    for a, b, c in zip(ref.module.parameters(), ours.module.parameters(), f.parameters()):
        assert not torch.equal(b, c)            # an average, not the last iterate
        assert torch.equal(a, b)


def test_sigmoid_tanh_is_tanh_with_exact_gradients():
    """The encoders' Tanh (2 sigmoid(2x) - 1, chosen for speed) is tanh: within 4e-7 in
    float32 (each of sigmoid's output and the affine map rounds once, 2^-23 ~ 1.2e-7
    relative, doubled by the 2x), within 1e-15 in float64, with gradients and second
    derivatives checked numerically, and it works under torch.func."""
    from pycheck.encoders import Tanh
    x = torch.linspace(-12, 12, 100_001)
    assert (Tanh()(x) - torch.tanh(x.double()).float()).abs().max() <= 4e-7
    xd = torch.linspace(-12, 12, 10_001, dtype=torch.float64)
    assert (Tanh()(xd) - torch.tanh(xd)).abs().max() <= 1e-15
    xs = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(Tanh(), (xs,))
    assert torch.autograd.gradgradcheck(Tanh(), (xs,))
    v = torch.randn(5, 4, dtype=torch.float64)
    torch.testing.assert_close(torch.func.vmap(Tanh())(v), torch.tanh(v))
    torch.testing.assert_close(torch.func.grad(lambda u: Tanh()(u).sum())(v[0]),
                               1 - torch.tanh(v[0]) ** 2)


def test_keep_freed_memory_applies_on_glibc():
    import platform
    from pycheck.train import keep_freed_memory
    applied = keep_freed_memory()
    assert applied is (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")


# small enough for numerical Jacobians, large enough (batch 17 > SKINNY = 16) that each
# product takes both paths of _mm somewhere
@pytest.mark.parametrize("shape", [(4, 17), (17, 3), (1, 3)])
def test_linear_with_transposed_narrow_products_is_nn_linear(shape):
    """encoders.Linear (narrow products computed transposed, for speed) is nn.Linear: same
    initial weights and state dict under one seed, outputs equal in float64 to rounding,
    first and second derivatives in x, weight and bias checked numerically."""
    from pycheck.encoders import Linear, _LinearFunction
    torch.manual_seed(0)
    ours = Linear(*shape).double()
    torch.manual_seed(0)
    ref = torch.nn.Linear(*shape).double()
    for k, v in ref.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[k], v, rtol=0, atol=0)
    x = torch.randn(17, shape[0], dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-14, atol=1e-14)
    args = (x, ours.weight, ours.bias)
    assert torch.autograd.gradcheck(_LinearFunction.apply, args)
    assert torch.autograd.gradgradcheck(_LinearFunction.apply, args)
    # the module's call path (encoders._apply, which skips Function.apply's argument
    # binding): same gradients, and vmap / grad still go through Function.apply
    assert torch.autograd.gradcheck(lambda *a: ours(a[0]), (x,))
    v = torch.randn(5, 17, shape[0], dtype=torch.float64)
    torch.testing.assert_close(torch.func.vmap(ours)(v), ref(v), rtol=1e-14, atol=1e-14)
    g_ours = torch.func.grad(lambda u: ours(u).square().sum())(v[0])
    g_ref = torch.func.grad(lambda u: ref(u).square().sum())(v[0])
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dim", [2, 5, 16])
def test_realnvp_encoder_with_learned_bound_holds_the_mixing_inverse_exactly(dim):
    """The matched encoder (learn_bound, the default) contains the RealNVP mixing's inverse:
    with the mixing's weights copied into its couplings (reverse order, hidden units beyond
    the mixing's 32 unused), the bound c = the mixing's log-scale bound (0.6) and v = 0.6 W_s
    hid, it maps g(z) back to z to float32 rounding. The tolerance 1e-4: float32 arithmetic
    through 4 couplings on inputs of size up to ~10 (a few ulps, 1.2e-7 relative, per
    operation); a missing exp, sign or order error gives O(1) errors (the mixing is far
    from the identity: checked). With the constant bound 2 no weights give this map."""
    import math

    import numpy as np

    from pycheck.mixings import make_mixing
    g = make_mixing("realnvp", dim, seed=3)
    enc = RealNVPEncoder(dim, seed=0)
    layers = list(zip(g.halves, g.layers))[::-1]        # the inverse runs backwards
    with torch.no_grad():
        for c, ((cond, out), p) in zip(enc.couplings, layers):
            assert (c.cond, c.out) == (cond, out)
            hid = p["w1"].shape[1]
            d_o = out.stop - out.start
            first, last = c.net[0], c.net[2]
            first.weight.zero_(), first.bias.zero_(), last.weight.zero_(), last.bias.zero_()
            first.weight[:hid] = torch.from_numpy(p["w1"].T)
            first.bias[:hid] = torch.from_numpy(p["b1"])
            last.weight[:d_o, :hid] = torch.from_numpy(g.scale * p["ws"].T)
            last.weight[d_o:, :hid] = torch.from_numpy(g.shift * p["wt"].T)
            c.log_bound.fill_(math.log(g.scale))
    z = np.random.default_rng(0).standard_normal((2000, dim))
    x = g.forward(z)
    assert np.abs(x - z).max() > 0.5                  # not the identity
    out = enc(torch.from_numpy(x).float()).detach().double().numpy()
    assert np.abs(out - z).max() < 1e-4


def test_realnvp_encoder_bound_starts_at_max_log_scale_and_is_trained():
    """learn_bound: the encoder starts as the constant-bound one (the same weights under one
    seed, the same function), and the bound gets a gradient once the couplings are away from
    the identity; learn_bound=False has no such parameter."""
    fixed, learned = RealNVPEncoder(6, seed=1, learn_bound=False), RealNVPEncoder(6, seed=1)
    extra = set(dict(learned.named_parameters())) - set(dict(fixed.named_parameters()))
    assert extra == {f"couplings.{i}.log_bound" for i in range(4)}
    for k, v in fixed.state_dict().items():
        assert torch.equal(learned.state_dict()[k], v)
    x = torch.randn(32, 6)
    with torch.no_grad():
        for f in (fixed, learned):
            for c in f.couplings:
                c.net[2].weight.copy_(torch.ones_like(c.net[2].weight))
    torch.testing.assert_close(learned(x), fixed(x), rtol=1e-6, atol=1e-6)
    learned(x).square().sum().backward()
    assert all(c.log_bound.grad.abs().min() > 0 for c in learned.couplings)


@pytest.mark.parametrize("dim,rows,offset", [(2, 1, 0.0), (7, 33, 1e8), (64, 1024, 3.0)])
def test_standardize_with_a_diagonal_transform_is_the_matrix_product_bit_for_bit(
        dim, rows, offset):
    """Standardized.standardize applies a diagonal ("diag") transform as a product by its
    diagonal (for speed): bit for bit the float64 matrix product, signs of zeros included,
    from float32 and float64 inputs; after a state-dict load with a full ZCA matrix the
    result is that matrix's product."""
    from pycheck.encoders import Standardized
    gen = torch.Generator().manual_seed(dim)
    x = torch.randn(5000, dim, dtype=torch.float64, generator=gen) * \
        torch.linspace(0.1, 30, dim, dtype=torch.float64) + offset
    m = Standardized.fit(torch.nn.Identity(), x, "diag")
    for xs in (torch.randn(rows, dim, generator=gen, dtype=torch.float64) * 5 + offset,
               (torch.randn(rows, dim, generator=gen) * 5 + offset)):
        xs[0, 0] = m.mean[0]                       # an exact zero after centring
        ours, ref = m.standardize(xs), ((xs.double() - m.mean) @ m.transform).float()
        assert torch.equal(ours, ref) and torch.equal(ours.signbit(), ref.signbit())
    m.load_state_dict(Standardized.fit(torch.nn.Identity(), x, "zca").state_dict())
    assert torch.count_nonzero(m.transform) > dim      # a full ZCA matrix now
    xs = torch.randn(rows, dim, generator=gen, dtype=torch.float64) + offset
    assert torch.equal(m.standardize(xs), ((xs - m.mean) @ m.transform).float())


def test_standardized_keeps_float64_whitening_through_dtype_conversions():
    """Session 36: ``.float()`` rounded the stored 1e8 offset to float32 (0.12 off on
    unit-variance outputs) and ``.double()`` / ``.half()`` raised a dtype mismatch."""
    import torch

    from pycheck.encoders import Standardized
    from pycheck.train import embed, make_encoder
    x = torch.randn(200, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 1e8
    for kind in ("diag", "zca"):
        m = Standardized.fit(make_encoder("residual-mlp", 2, 2), x, kind)
        ref = embed(m, x)
        assert (embed(m.float(), x) == ref).all() and m.mean.dtype == torch.float64
        m.double()
        assert m(x).dtype == torch.float64 and m.transform.dtype == torch.float64
        assert abs(embed(m, x) - ref).max() < 1e-5       # float64 layers: float32 rounding
        assert m.half()(x).dtype == torch.float16


@pytest.mark.parametrize("make, match", [
    (lambda: enc.MLPEncoder(2.0, 2), "MLPEncoder's dim_in must be an integer"),
    (lambda: enc.MLPEncoder(2, 2, depth=0), "MLPEncoder's depth must be an integer in \\[1"),
    (lambda: enc.RealNVPEncoder(2.5), "RealNVPEncoder's dim must be an integer"),
    (lambda: enc.RealNVPEncoder(4, hidden=8.0), "RealNVPEncoder's hidden must be an integer"),
    (lambda: enc.whitening(torch.ones(1, 3), "zca"), "at least 2 rows"),
])
def test_encoder_settings_that_reached_torch_are_named(make, match):
    """Session 43 (a user's trial): each failed inside torch (a TypeError from empty(), a
    LinAlgError from eigh) instead of naming the argument."""
    with pytest.raises(ValueError, match=match):
        make()


def test_zca_whitens_columns_of_far_apart_scales():
    """Session 47 (a user's trial): columns of scales 1e-3 .. 1e6 lost a direction in
    Cov^{-1/2} (float64 rounding of Cov's small eigenvalues; whitened variances 2.4e-7 and
    0.08 instead of 1) and the fit dropped it silently. Beyond ZCA_SCALE_RATIO the transform
    whitens the correlation matrix; below it it is still the symmetric Cov^{-1/2}, bit for
    bit, so stored fits keep their numbers."""
    from pycheck.encoders import ZCA_SCALE_RATIO, whitening
    x = np.random.default_rng(0).standard_normal((20000, 4)) @ \
        np.random.default_rng(1).standard_normal((4, 4))
    for scales in ([1e-3, 1e3, 1, 1e6], [1e-6, 1e6, 1, 1e8]):
        xs = torch.from_numpy(x * np.array(scales))
        mean, tr = whitening(xs, "zca")
        cov = torch.cov(((xs - mean) @ tr).T)
        assert (cov - torch.eye(4, dtype=cov.dtype)).abs().max() < 1e-10
    xt = torch.from_numpy(x * np.array([1, 2, 0.5, ZCA_SCALE_RATIO / 30]))
    assert xt.std(0).max() < ZCA_SCALE_RATIO * xt.std(0).min()      # below the ratio
    mean, tr = whitening(xt, "zca")
    evals, evecs = torch.linalg.eigh(torch.cov(xt.T))
    assert torch.equal(tr, evecs @ torch.diag(evals.clamp_min(1e-12 * evals.max()).rsqrt())
                       @ evecs.T)
    assert torch.allclose(tr, tr.T)

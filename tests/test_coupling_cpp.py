"""The RealNVP encoder's C++ coupling kernels (:mod:`pycheck.coupling_cpp`, session 40): the
same function and gradients as the plain formula under autograd, any thread count the same
bits, and the encoder's autograd form where they do not apply."""
import pytest
import torch
from pycheck import coupling_cpp
from pycheck.encoders import RealNVPEncoder, _Coupling

pytestmark = pytest.mark.skipif(coupling_cpp._extension() is None,
                                reason="the C++ coupling kernels could not be built here")


def _plain(coupling, x_c, x_o, params):
    """The coupling as plain float64 autograd: ``net`` by hand, ``torch.tanh``, ``exp``."""
    w1, b1, w2, b2, log_bound = params
    s, t = (torch.tanh(x_c @ w1.T + b1) @ w2.T + b2).chunk(2, -1)
    c = log_bound.exp() if log_bound is not None else coupling.max_log_scale
    return x_o * torch.exp(c * torch.tanh(s / c)) + t


def _params(coupling):
    return [coupling.net[0].weight, coupling.net[0].bias, coupling.net[2].weight,
            coupling.net[2].bias, coupling.log_bound]


def _rel(a, b):
    return ((a.double() - b).abs().max() / b.abs().max()).item()


def _random_coupling(d_c, d_o, hidden, learn_bound, seed):
    coupling = _Coupling(slice(0, d_c), slice(d_c, d_c + d_o), hidden, 2.0, learn_bound)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in coupling.parameters():
            p.copy_(torch.randn(p.shape, generator=g) / max(1, p.shape[-1]) ** 0.5)
    return coupling


@pytest.mark.parametrize("rows, d_c, d_o, hidden, learn_bound", [
    (1024, 128, 128, 128, True),     # the bench step's N = 256
    (700, 3, 3, 128, True),          # N = 6: skinny products (transposed outputs)
    (37, 5, 4, 12, False),           # fixed bound, a narrow hidden layer, an odd batch
])
def test_coupling_matches_the_plain_formula_in_float64(rows, d_c, d_o, hidden, learn_bound):
    """The C++ path in float32 against plain autograd in float64: the output and the
    gradients of both halves and of every parameter within 1e-5 relative (measured up to about
    1e-6: float32 products over up to 128 terms; a wrong term is O(1)). x_o is a column slice
    of a wider matrix, as the encoder passes it."""
    coupling = _random_coupling(d_c, d_o, hidden, learn_bound, rows)
    g = torch.Generator().manual_seed(1)
    x_c = torch.randn(rows, d_c, generator=g).requires_grad_()
    x_o = torch.randn(rows, d_o + 3, generator=g)[:, 2:2 + d_o].requires_grad_()
    assert coupling_cpp.applies(x_c, x_o)
    w = torch.randn(rows, d_o, generator=g)
    params = [p for p in _params(coupling) if p is not None]
    y = coupling.transform(x_c, x_o)
    grads = torch.autograd.grad((y * w).sum(), [x_c, x_o, *params])
    ref_params = [p.detach().double().requires_grad_() if p is not None else None
                  for p in _params(coupling)]
    ref_in = [x_c.detach().double().requires_grad_(), x_o.detach().double().requires_grad_()]
    y64 = _plain(coupling, *ref_in, ref_params)
    ref = torch.autograd.grad((y64 * w.double()).sum(),
                              [*ref_in, *[p for p in ref_params if p is not None]])
    assert _rel(y, y64) < 1e-5
    for a, b in zip(grads, ref, strict=True):
        assert a.shape == b.shape and _rel(a, b) < 1e-5


def test_tanh_matches_torch_over_its_range():
    """Cephes' tanhf on both sides of its switch at 0.625 and into saturation: within 1.5e-7
    relative of float64 tanh (measured 1.2e-7), odd, and exactly 0 at 0."""
    u = torch.linspace(-30, 30, 200_001).reshape(-1, 1)
    t = coupling_cpp.bias_tanh_(u.clone(), torch.zeros(1))
    ref = torch.tanh(u.double())
    assert ((t.double() - ref).abs() / ref.abs().clamp_min(1e-30)).max() < 1.5e-7
    assert torch.equal(t, -coupling_cpp.bias_tanh_(-u, torch.zeros(1)))
    assert coupling_cpp.bias_tanh_(torch.zeros(3, 2), torch.zeros(2)).eq(0).all()


def test_same_bits_with_one_and_two_threads():
    """Rows split between threads, the bias and bound gradients summed in fixed blocks of rows:
    output, input gradients and the kernel's own sums (bias and bound gradients) equal bit
    for bit at 1 and 2 threads. The weight gradients are MKL's products summed over the
    batch: on an AVX-512 Intel host MKL splits that sum between threads (session 51: equal
    on the AMD hosts before), so they agree to float32 rounding of a 1000-term sum only, and
    the kit pins each run's thread count for that reason (docs/CLUSTER.md)."""
    coupling = _random_coupling(32, 32, 128, True, 0)
    g = torch.Generator().manual_seed(0)
    x_c, x_o, gy = (torch.randn(1000, 32, generator=g) for _ in range(3))
    out = []
    before = torch.get_num_threads()
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            ins = [x_c.clone().requires_grad_(), x_o.clone().requires_grad_()]
            y = coupling.transform(*ins)
            out.append((y, *torch.autograd.grad(y, [*ins, *coupling.parameters()], gy)))
    finally:
        torch.set_num_threads(before)
    names = ["y", "x_c", "x_o"] + [n for n, _ in coupling.named_parameters()]
    for name, a, b in zip(names, *out, strict=True):
        if name.endswith(".weight"):
            # a 1000-term float32 sum in another order: within a few ulps of its size
            # (sum of |terms| ~ 1000 x typical term; 1e-5 relative to the largest entry)
            torch.testing.assert_close(a, b, rtol=0, atol=1e-5 * float(a.abs().max()))
        else:
            assert torch.equal(a, b), name


def test_encoder_uses_the_torch_form_in_float64_and_under_vmap():
    """Float64 and torch.func transforms take the autograd form (the C++ kernels are float32
    only and cannot see batched tensors); its gradients agree with float32's C++ path."""
    enc = RealNVPEncoder(6, seed=1)
    with torch.no_grad():
        for p in enc.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    x = torch.randn(64, 6, generator=torch.Generator().manual_seed(2))
    assert not coupling_cpp.applies(x.double())
    y32 = enc(x)
    y64 = enc.double()(x.double())
    enc.float()
    assert _rel(y32, y64) < 1e-5
    params = {k: v.detach() for k, v in enc.named_parameters()}
    stacked = {k: torch.stack([v, v]) for k, v in params.items()}

    def loss(p, x):
        return torch.func.functional_call(enc, p, (x,)).pow(2).sum()
    vg = torch.func.vmap(torch.func.grad(loss), in_dims=(0, None))(stacked, x)
    direct = torch.autograd.grad(loss(dict(enc.named_parameters()), x),
                                 list(dict(enc.named_parameters()).values()))
    for (k, v), d in zip(vg.items(), direct, strict=True):
        assert _rel(v[0], d.double()) < 1e-5 and torch.equal(v[0], v[1])

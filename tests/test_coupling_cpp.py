"""The RealNVP encoder's C++ coupling kernels (:mod:`pycheck.coupling_cpp`, session 40): the
same function and gradients as the plain formula under autograd, any thread count the same
bits, and the encoder's torch form where they do not apply."""
import pytest
import torch
from pycheck import coupling_cpp
from pycheck.encoders import RealNVPEncoder, _CouplingTail

pytestmark = pytest.mark.skipif(coupling_cpp._extension() is None,
                                reason="the C++ coupling kernels could not be built here")


def _plain(vt, x_o, c):
    s, t = vt.chunk(2, -1)
    return x_o * torch.exp(c * torch.tanh(s / c)) + t


def _rel(a, b):
    return ((a.double() - b).abs().max() / b.abs().max()).item()


@pytest.mark.parametrize("rows, d, c_shape, strided", [(1024, 128, "vector", False),
                                                      (37, 5, "scalar", True),
                                                      (512, 4, "vector", True)])
def test_tail_matches_the_plain_formula_in_float64(rows, d, c_shape, strided):
    """Float32 C++ against float64 autograd: y and the three gradients within 1e-6 relative
    (measured 0.6-2.2e-7: float32 rounding of about ten operations; a wrong term is O(1)).
    ``strided``: x_o a column slice of a wider matrix and vt a transposed product's output,
    as in the encoder."""
    g = torch.Generator().manual_seed(rows)
    vt = 2 * torch.randn(rows, 2 * d, generator=g)
    if strided:
        vt = vt.T.contiguous().T                    # column-major, as _mm's skinny products
    x_o = torch.randn(rows, d + 3, generator=g)[:, 1:d + 1] if strided else \
        torch.randn(rows, d, generator=g)
    c = torch.rand(d if c_shape == "vector" else (), generator=g) + 0.3
    w = torch.randn(rows, d, generator=g)
    ins = [a.clone().requires_grad_() for a in (vt, x_o, c)]
    assert coupling_cpp.applies(*ins)
    y = _CouplingTail.apply(*ins)[0]
    grads = torch.autograd.grad((y * w).sum(), ins)
    ref_in = [a.detach().double().requires_grad_() for a in (vt, x_o, c)]
    y64 = _plain(*ref_in)
    ref = torch.autograd.grad((y64 * w.double()).sum(), ref_in)
    assert _rel(y, y64) < 1e-6
    for a, b in zip(grads, ref):
        assert a.shape == b.shape and _rel(a, b) < 1e-6


def test_tanh_matches_torch_over_its_range():
    """Cephes' tanhf on both sides of its switch at 0.625 and into saturation: within 1.5e-7
    relative of float64 tanh (measured 1.2e-7), odd, and exactly 0 at 0."""
    u = torch.linspace(-30, 30, 200_001).reshape(-1, 1)
    t = coupling_cpp.tanh(u)
    ref = torch.tanh(u.double())
    assert ((t.double() - ref).abs() / ref.abs().clamp_min(1e-30)).max() < 1.5e-7
    assert torch.equal(t, -coupling_cpp.tanh(-u))
    assert coupling_cpp.tanh(torch.zeros(3, 2)).eq(0).all()


def test_same_bits_with_one_and_two_threads():
    """Rows split between threads, the bound's gradient summed in fixed blocks: forward and
    backward equal bit for bit at 1 and 2 threads."""
    g = torch.Generator().manual_seed(0)
    vt, x_o, gy = (torch.randn(1000, k, generator=g) for k in (64, 32, 32))
    c = torch.rand(32, generator=g) + 0.5
    out = []
    before = torch.get_num_threads()
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            y, th, e = coupling_cpp.forward(vt, x_o, c)
            out.append((y, th, e, *coupling_cpp.backward(gy, vt, x_o, c, th, e, True)))
    finally:
        torch.set_num_threads(before)
    assert all(torch.equal(a, b) for a, b in zip(*out))


def test_encoder_uses_the_torch_form_in_float64_and_under_vmap():
    """Float64 and torch.func transforms take the torch form: the C++ kernels are float32
    only and cannot see batched tensors; gradients there agree with float32's C++ path."""
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
    for (k, v), d in zip(vg.items(), direct):
        assert _rel(v[0], d.double()) < 1e-5 and torch.equal(v[0], v[1])

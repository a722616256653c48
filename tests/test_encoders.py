"""The encoders' forward passes: RealNVPEncoder's split-halves forward is the chain of its
couplings (bit for bit), and Adam's multi-tensor update is the per-parameter one."""
import pytest
import torch

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


def test_adam_foreach_update_equals_the_default_loop_bit_for_bit():
    """The trainers pass foreach=True to Adam (CPU's default is a loop over parameters):
    twenty steps on the same gradients give the same parameters, bit for bit."""
    g = torch.Generator().manual_seed(0)
    shapes = [(30, 20), (20,), (7, 3, 2)]
    start = [torch.randn(s, generator=g) for s in shapes]
    grads = [[torch.randn(s, generator=g) for s in shapes] for _ in range(20)]
    final = []
    for foreach in (None, True):
        params = [p.clone().requires_grad_() for p in start]
        opt = torch.optim.Adam(params, lr=1e-2, foreach=foreach)
        for step in grads:
            for p, gr in zip(params, step):
                p.grad = gr.clone()
            opt.step()
        final.append(params)
    for a, b, s in zip(*final, start):
        assert not torch.equal(a, s)       # the steps moved every parameter
        assert torch.equal(a, b)

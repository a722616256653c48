"""The RealNVP encoder's couplings' element-wise work as plain C++ (CPU, float32; session 40),
for :class:`pycheck.encoders._CouplingFn`: the hidden layer's bias and tanh in one in-place
pass (:func:`bias_tanh_`) and its backward with the bias gradient (:func:`tanh_grad_`); the
tail ``y = x_o exp(c tanh(v / c)) + t`` with the output bias in one pass (:func:`tail_forward`)
and its backward, writing ``[dv | dt]`` and ``dx_o`` and summing the bias and bound gradients
in the same pass (:func:`tail_backward`; tanh and exp recomputed there, not stored).

Why: issue 16 item 3 (a training step at N >= 256 at half the machine's matmul rate). In the
bench's SIGReg step at N = 256 (batch 2 x 512, 2 threads, AVX2 host) the matmuls took 14.6 of
26.8 ms under the profiler; the rest was element-wise passes over (1024, 128) tensors, which
are memory-bound inside a step (a bias add of (1024, 256) 0.25 ms there against 0.025 ms
alone; the coupling's C++ backward passes about 0.7 ms per coupling there against 0.1 ms
alone), and autograd made about 30 of them per coupling. The step against session 39's
couplings, interleaved in one process: 0.89x at N = 256, 0.80-0.82x at N = 64, 0.84-0.86x at
N = 8 (``scripts/coupling_tail_probe.py``, ``results/bench/coupling_tail_s40.txt``); the
bench's N = 256 step fraction against session 39's code, alternating processes:
``results/bench/step_fraction_ab_s40.txt``.

Arithmetic: tanh by Cephes' ``tanhf`` (a polynomial below 0.625, ``1 - 2 / (e^{2|u|} + 1)``
above), exp by Cephes' ``expf`` (range reduction by ln 2 in two parts, a degree-7
polynomial, the power of two by its exponent bits), both branch-free so that ``omp simd``
vectorises them (with ``-fno-trapping-math``, below); within 1.2e-7 relative of float64
(tested). Column sums over the batch (bias and bound gradients) are summed in fixed blocks of
rows, then the blocks in order: the same bits whatever the thread count (tested).

Scope: CPU float32 outside ``torch.func`` transforms; everything else (float64, CUDA, vmap,
a failed build) runs the coupling as torch operations under autograd. Built at first
use with :func:`torch.utils.cpp_extension.load_inline` (cached by torch; 39 CPU s the first
time here).
"""
from __future__ import annotations

import torch
from torch import Tensor

_SOURCE = r"""
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <cstring>
#include <vector>

// e^x, float32, branch-free (Cephes expf; peak relative error about 1.2e-7): x clamped to
// [-87, 88], n = round(x / ln 2), r = x - n ln 2 in two parts, e^r by its degree-7
// polynomial, times 2^n built from the exponent bits. A macro so that `omp simd` loops
// vectorise (as the SIGReg kernels' SINCOS).
#define EXPF(x, out)                                                                         \
  do {                                                                                       \
    const float x0_ = (x);  /* clamped by comparisons: fminf / fmaxf do not vectorise */   \
    const float xc_ = x0_ < -87.0f ? -87.0f : (x0_ > 88.0f ? 88.0f : x0_);                   \
    /* round to nearest by truncating a positive number: floorf does not vectorise */      \
    const float fx_ = (float)((int)(xc_ * 1.44269504088896341f + 128.5f) - 128);             \
    const float r_ = (xc_ - fx_ * 0.693359375f) + fx_ * 2.12194440e-4f;                      \
    const float z_ = r_ * r_;                                                                \
    const float p_ = ((((((1.9875691500e-4f * r_ + 1.3981999507e-3f) * r_                   \
                         + 8.3334519073e-3f) * r_ + 4.1665795894e-2f) * r_                   \
                       + 1.6666665459e-1f) * r_ + 5.0000001201e-1f) * z_) + r_ + 1.0f;       \
    const int bits_ = ((int)fx_ + 127) << 23;                                                \
    const float two_ = __builtin_bit_cast(float, bits_);                                     \
    (out) = p_ * two_;                                                                       \
  } while (0)

// tanh u, float32, branch-free (Cephes tanhf): below |u| = 0.625 the odd polynomial, above
// 1 - 2 / (e^{2|u|} + 1) with u's sign.
#define TANHF(u, out)                                                                        \
  do {                                                                                       \
    const float au_ = fabsf(u);                                                              \
    const float z_ = (u) * (u);                                                              \
    const float small_ = ((((-5.70498872745e-3f * z_ + 2.06390887954e-2f) * z_               \
                            - 5.37397155531e-2f) * z_ + 1.33314422036e-1f) * z_              \
                          - 3.33332819422e-1f) * z_ * (u) + (u);                             \
    float e2_; EXPF(2.0f * au_, e2_);                                                        \
    const float big_ = 1.0f - 2.0f / (e2_ + 1.0f);                                           \
    /* both computed, then mixed by a 0/1 factor: a select let GCC compute e^{2|u|} only  \
       under a mask, and then not vectorise the loop */                                     \
    const float m_ = (float)(au_ < 0.625f);                                                  \
    (out) = m_ * small_ + (1.0f - m_) * ((u) < 0.f ? -big_ : big_);                          \
  } while (0)

static void check(const torch::Tensor &a, int64_t rows, int64_t cols, const char *name) {
  TORCH_CHECK(a.scalar_type() == torch::kFloat && a.device().is_cpu() && a.dim() == 2 &&
              a.size(0) == rows && a.size(1) == cols && a.stride(1) == 1 &&
              (rows < 2 || a.stride(0) >= cols), name, ": a CPU float32 (", rows, ", ", cols,
              ") tensor with unit column stride");
}

// Rows in blocks of R (fixed, whatever the thread count): a column sum over the batch is
// each block's partial sums, added in block order, so its bits do not depend on the threads.
constexpr int64_t R = 32;

static torch::Tensor block_sums(const std::vector<float> &part, int64_t nb, int64_t w,
                                int64_t off, int64_t cols, const torch::TensorOptions &opt) {
  auto out = torch::zeros({cols}, opt);
  float *o = out.data_ptr<float>();
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t j = 0; j < cols; ++j) o[j] += part[b * w + off + j];
  return out;
}

// pre = tanh(pre + b) in place (pre (B, H) contiguous, b (H)): the conditioner net's hidden
// layer after its product, bias and activation in one pass.
void bias_tanh_(torch::Tensor pre, torch::Tensor b) {
  const int64_t B = pre.size(0), H = pre.size(1);
  check(pre, B, H, "pre");
  TORCH_CHECK(pre.is_contiguous() && b.is_contiguous() && b.numel() == H &&
              b.scalar_type() == torch::kFloat);
  float *P = pre.data_ptr<float>();
  const float *bb = b.data_ptr<float>();
  at::parallel_for(0, B, 16, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      float *r = P + i * H;
      #pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        const float u = r[j] + bb[j];
        float t_;
        TANHF(u, t_);
        r[j] = t_;
      }
    }
  });
}

// g = g (1 - h²) in place (the hidden layer's backward; g, h (B, H) contiguous); returns the
// bias's gradient, the column sums of the new g.
torch::Tensor tanh_grad_(torch::Tensor g, torch::Tensor h) {
  const int64_t B = g.size(0), H = g.size(1);
  check(g, B, H, "g"); check(h, B, H, "h");
  TORCH_CHECK(g.is_contiguous() && h.is_contiguous());
  const int64_t nb = (B + R - 1) / R;
  std::vector<float> part(nb * H, 0.f);
  float *G = g.data_ptr<float>();
  const float *Hh = h.data_ptr<float>();
  at::parallel_for(0, nb, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float *acc = part.data() + b * H;
      for (int64_t i = b * R; i < std::min(B, (b + 1) * R); ++i) {
        float *gr = G + i * H;
        const float *hr = Hh + i * H;
        #pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
          const float v = gr[j] * (1.0f - hr[j] * hr[j]);
          gr[j] = v; acc[j] += v;
        }
      }
    }
  });
  return block_sums(part, nb, H, 0, H, g.options());
}

// tanh(v / c) and exp(c tanh(v / c)) for v = vt + bv at one element: the forward's values,
// recomputed by the backward from the same inputs (the same bits). Why recompute: inside a
// training step these passes are memory-bound (about 10 GB/s here, session 40), and storing
// the two (B, d) intermediates and reading them back cost more than the arithmetic.
#define TAIL_VALUES(v, bv, c, th, e)                                                         \
  do {                                                                                       \
    const float u_ = ((v) + (bv)) / (c);                                                     \
    TANHF(u_, th);                                                                           \
    EXPF((c) * (th), e);                                                                     \
  } while (0)

// vt (B, 2d): [v | t] before the bias b2 (2d); x_o (B, d); c (d). Returns
// y = x_o exp(c tanh(v / c)) + t for the biased v, t.
torch::Tensor tail_forward(torch::Tensor vt, torch::Tensor b2, torch::Tensor x_o,
                           torch::Tensor c) {
  const int64_t B = x_o.size(0), d = x_o.size(1);
  check(vt, B, 2 * d, "vt"); check(x_o, B, d, "x_o");
  TORCH_CHECK(c.is_contiguous() && c.numel() == d && c.scalar_type() == torch::kFloat &&
              b2.is_contiguous() && b2.numel() == 2 * d && b2.scalar_type() == torch::kFloat);
  auto y = torch::empty({B, d}, x_o.options());
  const float *V = vt.data_ptr<float>(), *X = x_o.data_ptr<float>(), *C = c.data_ptr<float>(),
              *bv = b2.data_ptr<float>(), *bt = bv + d;
  float *Y = y.data_ptr<float>();
  const int64_t sv = vt.stride(0), sx = x_o.stride(0);
  at::parallel_for(0, B, 16, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float *v = V + i * sv, *t = v + d, *x = X + i * sx;
      float *yo = Y + i * d;
      #pragma omp simd
      for (int64_t j = 0; j < d; ++j) {
        float th_, e_;
        TAIL_VALUES(v[j], bv[j], C[j], th_, e_);
        yo[j] = x[j] * e_ + (t[j] + bt[j]);
      }
    }
  });
  return y;
}

// The gradients of tail_forward's y: [dv | dt] (B, 2d), dx_o (B, d), db2 (2d: the column
// sums of [dv | dt]) and, when need_c, dc (d; c's own, not log c's).
std::vector<torch::Tensor> tail_backward(torch::Tensor gy, torch::Tensor vt, torch::Tensor b2,
                                         torch::Tensor x_o, torch::Tensor c, bool need_c) {
  const int64_t B = x_o.size(0), d = x_o.size(1);
  check(gy, B, d, "gy"); check(vt, B, 2 * d, "vt"); check(x_o, B, d, "x_o");
  TORCH_CHECK(c.is_contiguous() && c.numel() == d && b2.is_contiguous() && b2.numel() == 2 * d);
  auto gvt = torch::empty({B, 2 * d}, x_o.options()), gx = torch::empty({B, d}, x_o.options());
  const int64_t nb = (B + R - 1) / R, w = need_c ? 3 * d : 2 * d;  // per block: db2, then dc
  std::vector<float> part(nb * w, 0.f);
  const float *G = gy.data_ptr<float>(), *V = vt.data_ptr<float>(), *X = x_o.data_ptr<float>(),
              *C = c.data_ptr<float>(), *bv = b2.data_ptr<float>();
  float *GV = gvt.data_ptr<float>(), *GX = gx.data_ptr<float>();
  const int64_t sg = gy.stride(0), sv = vt.stride(0), sx = x_o.stride(0);
  at::parallel_for(0, nb, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float *av = part.data() + b * w, *at_ = av + d, *ac = av + 2 * d;
      for (int64_t i = b * R; i < std::min(B, (b + 1) * R); ++i) {
        const float *g = G + i * sg, *v = V + i * sv, *x = X + i * sx;
        float *gv = GV + i * 2 * d, *gt = gv + d, *gx = GX + i * d;
        // dy / dx_o = e, q = dL / ds, dL / dv = q (1 - tanh²), ds/dc = tanh u - u (1 - tanh² u)
#define TAIL_GRAD(...)                                                                       \
        _Pragma("omp simd")                                                                  \
        for (int64_t j = 0; j < d; ++j) {                                                    \
          float th_, e_;                                                                     \
          TAIL_VALUES(v[j], bv[j], C[j], th_, e_);                                           \
          const float gxo = g[j] * e_, q = gxo * x[j];                                       \
          const float gvj = q * (1.0f - th_ * th_);                                          \
          gx[j] = gxo; gv[j] = gvj; gt[j] = g[j];                                            \
          av[j] += gvj; at_[j] += g[j];                                                      \
          __VA_ARGS__                                                                        \
        }
        if (need_c) {
          TAIL_GRAD(ac[j] += q * th_ - gvj * ((v[j] + bv[j]) / C[j]);)
        } else {
          TAIL_GRAD()
        }
      }
    }
  });
  auto gb = block_sums(part, nb, w, 0, 2 * d, x_o.options());
  torch::Tensor gc = need_c ? block_sums(part, nb, w, 2 * d, d, x_o.options()) : torch::Tensor();
  return {gvt, gx, gb, gc};
}
"""

_EXT = None     # the built extension; False once building failed


def _extension():
    global _EXT
    if _EXT is None:
        from .sigreg_cpp import build
        # speculative floating point (no exception flags are read): without it GCC 12 kept
        # e^{2|u|} under a branch for |u| >= 0.625 and did not vectorise the forward loop
        _EXT = build("coupling", _SOURCE,
                     ["bias_tanh_", "tanh_grad_", "tail_forward", "tail_backward"],
                     "RealNVP encoder couplings", "torch's operations",
                     ("-fno-trapping-math",))
    return _EXT or None


def applies(*tensors: Tensor) -> bool:
    """Whether the C++ kernels take these inputs (CPU float32, no torch.func transform,
    and the extension built)."""
    return (all(t.device.type == "cpu" and t.dtype == torch.float32 for t in tensors)
            and not torch._C._are_functorch_transforms_active() and _extension() is not None)


def _rows(a: Tensor) -> Tensor:
    """``a`` if its rows are unit-stride, else a contiguous copy (the skinny products'
    transposed outputs, :func:`pycheck.encoders._mm`)."""
    return a if a.stride(-1) == 1 else a.contiguous()


def bias_tanh_(pre: Tensor, b: Tensor) -> Tensor:
    """``pre = tanh(pre + b)`` in place (``pre`` contiguous); returns ``pre``."""
    _EXT.bias_tanh_(pre, b)
    return pre


def tanh_grad_(g: Tensor, h: Tensor) -> Tensor:
    """``g *= 1 - h²`` in place (both contiguous); returns the column sums of the new ``g``."""
    return _EXT.tanh_grad_(g, h)


def tail_forward(vt: Tensor, b2: Tensor, x_o: Tensor, c: Tensor) -> Tensor:
    """``y = x_o exp(c tanh(v / c)) + t`` for ``[v | t] = vt + b2``; ``c`` is broadcast to
    ``x_o``'s columns."""
    c = c.expand(x_o.shape[-1]).contiguous()
    return _EXT.tail_forward(vt, b2, x_o, c)


def tail_backward(gy: Tensor, vt: Tensor, b2: Tensor, x_o: Tensor, c: Tensor, need_c: bool):
    """``(d vt, d x_o, d b2, d c)`` (``d c`` summed to ``c``'s shape; ``None`` unless
    ``need_c``); ``vt`` and ``x_o`` as given to :func:`tail_forward`."""
    cv = c.expand(x_o.shape[-1]).contiguous()
    gvt, gx, gb, gc = _EXT.tail_backward(_rows(gy), vt, b2, x_o, cv, need_c)
    return gvt, gx, gb, (gc.sum() if c.dim() == 0 else gc) if need_c else None

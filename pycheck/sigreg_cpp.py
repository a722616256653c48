"""SIGReg's kernels as plain C++: the default on CPU in float32 with 17 knots since session
39 (``PYCHECK_SIGREG_KERNEL=compiled`` selects torch.compile's kernels instead).

Why: issue 16. On the same inputs, plain C++ loops do the work of the compiled (inductor)
kernels in about half the time (``scripts/sigreg_cpp_probe.py``,
``results/bench/sigreg_cpp_probe_s29.txt``; ``results/bench/sigreg_tried.txt`` item 13):
one ``omp simd`` loop over the batch per slice, computing the 16 harmonics by the same
doubling tree as :func:`pycheck.objectives._harmonics`, then the 32 batch sums (forward,
32 scalar reduction variables); the backward's trigonometric polynomial was summed from the
same harmonics until session 39, by Horner's scheme since (``grad_row``). Since
session 30 the forward computes the base knot's cos and sin itself (Cephes' float32
polynomials, a loop per slice before its sums): through SIGReg's autograd Function 0.75–0.77
against 0.85–0.86 ms at 256 slices x batch 256 and 2.61–2.76 against 3.03–3.27 ms at batch
1024, 2 threads, in one interleaved run (``scripts/sigreg_cpp_sincos.py``, ``results/bench/sigreg_cpp_sincos_s30.txt``).
Since session 39 :class:`pycheck.objectives.SIGReg` calls :func:`sigreg`: projection,
statistic and gradient in one C++ autograd node (the gradient in the forward's pass, the
polynomial by Horner's scheme), which took the call at 256 x 8 from 0.336 to 0.235 ms and at
256 x 256 from 0.732 to 0.583 ms (``scripts/sigreg_whole_probe.py``,
``results/bench/sigreg_whole_s39.txt``; ``results/bench/sigreg_tried.txt`` item 15).

Scope: CPU, float32, 17 knots (SIGReg's default); anything else keeps the compiled or eager
kernels. Built at first use with :func:`torch.utils.cpp_extension.load_inline` (g++ and ninja;
torch caches the build: about 30 s the first time here); if that fails, a warning, and the
compiled kernels are used. Slices are split between torch's threads (``at::parallel_for``),
each slice summed by one thread in a fixed order, so the statistic and the kernels' sums do
not depend on the thread count. The gradient with respect to ``h`` ends in a torch matmul,
whose sums torch may split by thread: at widths 5-7 (session 43, a user's trial) 1 and 2
threads gave gradients that differ in the last bit (up to 5e-7 relative); same thread
count, same bits. Its sums run in another order than the compiled kernels', so SIGReg's float32 results
differ from theirs in the last bits; results stored before session 39 were made with those.
"""
from __future__ import annotations

import contextlib
import hashlib
import sys
import time
import warnings
from pathlib import Path

import torch
from torch import Tensor

_SOURCE = r"""
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <array>

// cos, sin of k theta, k = 1..16, into pc[16], ps[16] from c = cos theta, s = sin theta: the
// doubling tree of pycheck.objectives._harmonics. A macro, not a function: called inside the
// `omp simd` loops, an inline function stopped GCC vectorising them (5.3 against 0.85 ms
// per forward + backward at 256 x 256, session 29)
#define HARMONICS(c, s, pc, ps)                                                              \
  do {                                                                                       \
    (pc)[0] = (c); (ps)[0] = (s);                                                            \
    for (int k_ = 2; k_ <= 16; ++k_) {                                                       \
      const int a_ = 1 << (31 - __builtin_clz(k_ - 1));                                      \
      const float ca_ = (pc)[a_ - 1], sa_ = (ps)[a_ - 1];                                    \
      const float cb_ = (pc)[k_ - a_ - 1], sb_ = (ps)[k_ - a_ - 1];                          \
      (pc)[k_ - 1] = ca_ * cb_ - sa_ * sb_; (ps)[k_ - 1] = sa_ * cb_ + ca_ * sb_;            \
    }                                                                                        \
  } while (0)

// sv = sin x, cv = cos x for |x| <= 8192 (float32, branch-free so that `omp simd` vectorises
// it): Cephes' sinf / cosf (S. L. Moshier; peak relative error 6.8e-8 on [-pi/4, pi/4]): x
// reduced by the nearest even multiple j of pi/4 in three parts (exact for |x| <= 8192, Cephes'
// `lossth`), both minimax polynomials, and the octant picks which and with what sign. A
// macro for the reason HARMONICS is one.
#define SINCOS(x, sv, cv)                                                                    \
  do {                                                                                       \
    const float ax_ = fabsf(x);                                                              \
    const int j_ = ((int)(ax_ * 1.27323954473516f) + 1) & ~1;                                \
    const float y_ = (float)j_;                                                              \
    const float r_ = ((ax_ - y_ * 0.78515625f) - y_ * 2.4187564849853515625e-4f)             \
                     - y_ * 3.77489497744594108e-8f;                                         \
    const float z_ = r_ * r_;                                                                \
    const float ps_ = ((-1.9515295891e-4f * z_ + 8.3321608736e-3f) * z_ - 1.6666654611e-1f)  \
                      * z_ * r_ + r_;                                                        \
    const float pc_ = ((2.443315711809948e-5f * z_ - 1.388731625493765e-3f) * z_             \
                       + 4.166664568298827e-2f) * z_ * z_ - 0.5f * z_ + 1.0f;                \
    const bool swap_ = (j_ & 2) != 0;                                                        \
    const float s_ = swap_ ? pc_ : ps_, c_ = swap_ ? ps_ : pc_;                              \
    (sv) = ((j_ & 4) != 0) != ((x) < 0.f) ? -s_ : s_;                                        \
    (cv) = (((j_ + 2) & 4) != 0) ? -c_ : c_;                                                 \
  } while (0)

// samples per float32 block of the batch sums, rows per float32 block of the slices' mean
// (ecf_rows, row_mean; session 42)
#define SUM_BLOCK 4096
#define ROW_BLOCK 1024

#define ADD_HARMONICS(cv, sv)                                                                \
  do {                                                                                       \
    float pc[16], ps[16];                                                                    \
    HARMONICS(cv, sv, pc, ps);                                                               \
    c0 += pc[0]; c1 += pc[1]; c2 += pc[2]; c3 += pc[3]; c4 += pc[4]; c5 += pc[5];            \
    c6 += pc[6]; c7 += pc[7]; c8 += pc[8]; c9 += pc[9]; c10 += pc[10]; c11 += pc[11];        \
    c12 += pc[12]; c13 += pc[13]; c14 += pc[14]; c15 += pc[15];                              \
    s0 += ps[0]; s1 += ps[1]; s2 += ps[2]; s3 += ps[3]; s4 += ps[4]; s5 += ps[5];            \
    s6 += ps[6]; s7 += ps[7]; s8 += ps[8]; s9 += ps[9]; s10 += ps[10]; s11 += ps[11];        \
    s12 += ps[12]; s13 += ps[13]; s14 += ps[14]; s15 += ps[15];                              \
  } while (0)

// The 17 values of phi or weights (float64 or float32, CPU) as float32, as .to(kFloat) would
// round them, without allocating a tensor per call (session 39: two fewer allocations and
// copies in a 0.25 ms call)
static std::array<float, 17> knots17(const torch::Tensor &t) {
  TORCH_CHECK(t.numel() == 17 && t.device().is_cpu());
  std::array<float, 17> out;
  if (t.scalar_type() == torch::kDouble) {
    auto c = t.contiguous();
    const double *p = c.data_ptr<double>();
    for (int k = 0; k < 17; ++k) out[k] = float(p[k]);
  } else {
    auto c = t.to(torch::kFloat).contiguous();
    const float *p = c.data_ptr<float>();
    for (int k = 0; k < 17; ++k) out[k] = p[k];
  }
  return out;
}

// og[b] = sum_k vk[k] cos((k+1) theta_b) - uk[k] sin((k+1) theta_b) from cg = cos theta,
// sg = sin theta. Its own function, not inlined: written inside ecf_rows' row loop, it made
// GCC's code for the sums' loop there 3.8x slower (0.39 against 0.10 ms at 256 x 256, 2
// threads, session 39), although both loops were reported vectorised.
__attribute__((noinline)) static void grad_row(const float *__restrict cg,
                                               const float *__restrict sg, const float *uk,
                                               const float *vk, int64_t B,
                                               float *__restrict og) {
  #pragma omp simd
  for (int64_t b = 0; b < B; ++b) {
    // Re sum_j (vk + i uk)[j] z^(j+1), z = cg + i sg, by Horner's scheme in w = z^2 on the
    // odd and even powers (two independent chains of 8 steps)
    const float zr = cg[b], zi = sg[b];
    const float wr = zr * zr - zi * zi, wi = 2.f * zr * zi;
    float er = vk[15], ei = uk[15], orr = vk[14], oi = uk[14];   // z^16 and z^15 terms
    for (int j = 13; j >= 1; j -= 2) {
      const float e2 = er * wr - ei * wi + vk[j];
      ei = er * wi + ei * wr + uk[j];
      er = e2;
      const float o2 = orr * wr - oi * wi + vk[j - 1];
      oi = orr * wi + oi * wr + uk[j - 1];
      orr = o2;
    }
    // even chain: sum over z^(2m) = w^m; odd chain: z * sum over w^m
    og[b] = (er * wr - ei * wi) + (orr * zr - oi * zi);
  }
}

// The 16 harmonics' sums over a batch of B > SUM_BLOCK samples (cos and sin in cg, sg): in
// float32 over blocks of SUM_BLOCK samples, the blocks in float64. One float32 sum over the
// whole batch lost precision with its length (a user's trial, session 42: relative error of
// the statistic 6e-5 at a batch of 65 536 and 5e-4 at 262 144, now 9e-7 and 4e-7 against
// float64; scripts/sigreg_block_sums_check.py). Its own function, not inlined: see ecf_rows.
__attribute__((noinline)) static void sums_blocked(const float *__restrict cg,
                                                   const float *__restrict sg, int64_t B,
                                                   float *cs, float *ss) {
  double cd[16] = {}, sd[16] = {};
  for (int64_t b0 = 0; b0 < B; b0 += SUM_BLOCK) {
    const int64_t b1 = std::min(B, b0 + SUM_BLOCK);
    float c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0, c8 = 0, c9 = 0,
          c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0, s9 = 0,
          s10 = 0, s11 = 0, s12 = 0, s13 = 0, s14 = 0, s15 = 0;
    #pragma omp simd reduction(+: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15)
    for (int64_t b = b0; b < b1; ++b) ADD_HARMONICS(cg[b], sg[b]);
    const float cb[16] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15};
    const float sb[16] = {s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15};
    for (int k = 0; k < 16; ++k) { cd[k] += cb[k]; sd[k] += sb[k]; }
  }
  for (int k = 0; k < 16; ++k) { cs[k] = float(cd[k]); ss[k] = float(sd[k]); }
}

// The rows of y (G x B, float32; theta = t0 y): each row's statistic
// B sum_k w_k ((ECF_re - phi)^2 + ECF_im^2) into row_stat, and where the pointers are given:
// cos and sin (C, S: G x B), ECF_re - phi and ECF_im at knots 1..16 (DC, SM: G x 16), and the
// gradient of the rows' mean statistic with respect to y (GY: G x B, see `backward`). cos and
// sin come from SINCOS, slice by slice just before its sums (session 30: no theta tensor, no
// separate at::cos and at::sin passes; in the sums' loop itself GCC's code was 4x slower), into
// C and S or, without them, into a buffer of the thread's that stays in cache for the
// gradient's pass (session 39); a slice with some |theta| > 8192 takes std::cos and std::sin.
static void ecf_rows(const float *Y, int64_t G, int64_t B, float t0f, const float *PH,
                     const float *W, float *row_stat, float *C, float *S, float *DC,
                     float *SM, float *GY) {
  const float scale0 = float(2.0 * t0f / G);
  at::parallel_for(0, G, 1, [&](int64_t g0, int64_t g1) {
    std::vector<float> cbuf(C ? 0 : B), sbuf(S ? 0 : B);
    for (int64_t g = g0; g < g1; ++g) {
      float *cg = C ? C + g * B : cbuf.data(), *sg = S ? S + g * B : sbuf.data();
      const float *yg = Y + g * B;
      float widest = 0.f;                    // NaN passes through SINCOS as NaN
      #pragma omp simd reduction(max: widest)
      for (int64_t b = 0; b < B; ++b) widest = std::max(widest, fabsf(yg[b] * t0f));
      // a separate loop: with the reduction in it, GCC's code took 1.7x as long (session 30)
      #pragma omp simd
      for (int64_t b = 0; b < B; ++b) SINCOS(yg[b] * t0f, sg[b], cg[b]);
      if (widest > 8192.f)
        for (int64_t b = 0; b < B; ++b) {
          const float th = yg[b] * t0f;
          cg[b] = std::cos(th); sg[b] = std::sin(th);
        }
      // batches above SUM_BLOCK samples: sums_blocked (why there). Up to it the one float32
      // loop below, unchanged: blocking it too (the same bits) made every size 2-7% slower,
      // and a second copy of the loop in this function compiled this one differently
      // (other bits at 1 ulp; session 42, scripts/sigreg_block_sums_check.py)
      float cs[16], ss[16];
      if (B > SUM_BLOCK) {
        sums_blocked(cg, sg, B, cs, ss);
      } else {
        float c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0, c8 = 0, c9 = 0,
              c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0, s9 = 0,
              s10 = 0, s11 = 0, s12 = 0, s13 = 0, s14 = 0, s15 = 0;
        #pragma omp simd reduction(+: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15)
        for (int64_t b = 0; b < B; ++b) ADD_HARMONICS(cg[b], sg[b]);
        const float cb[16] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15};
        const float sb[16] = {s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15};
        for (int k = 0; k < 16; ++k) { cs[k] = cb[k]; ss[k] = sb[k]; }
      }
      float stat = 0.f, uk[16], vk[16];
      for (int k = 0; k < 16; ++k) {
        const float d = cs[k] / B - PH[k + 1], e = ss[k] / B;
        if (DC) { DC[g * 16 + k] = d; SM[g * 16 + k] = e; }
        stat += (d * d + e * e) * W[k + 1];
        const float sc = scale0 * W[k + 1] * float(k + 1);
        uk[k] = sc * d; vk[k] = sc * e;
      }
      row_stat[g] = B * stat;
      if (GY) grad_row(cg, sg, uk, vk, B, GY + g * B);
    }
  });
}

// in row order (independent of the threads), in float32 over blocks of ROW_BLOCK rows and
// the blocks in float64: up to ROW_BLOCK rows (slices x views; every setting the kit trains
// with) the float32 sum of before, bit for bit; beyond it the error stops growing with the
// count (1.2e-4 at 16 384 slices, 4.5e-4 at 65 536 before; session 42)
static float row_mean(const std::vector<float> &row_stat) {
  double total = 0.0;
  const size_t G = row_stat.size();
  for (size_t r0 = 0; r0 < G; r0 += ROW_BLOCK) {
    float block = 0.f;
    for (size_t r = r0; r < std::min(G, r0 + ROW_BLOCK); ++r) block += row_stat[r];
    total += block;
  }
  return float(total) / G;
}

// theta = t0 y (G x B, float32): cos, sin, ECF_re - phi and ECF_im at knots 1..16 (G x 16)
// and the statistic averaged over the G rows (ecf_rows).
std::vector<torch::Tensor> forward(torch::Tensor y, double t0, torch::Tensor phi,
                                   torch::Tensor weights) {
  TORCH_CHECK(y.dim() == 2 && y.scalar_type() == torch::kFloat);
  y = y.contiguous();
  const auto ph = knots17(phi), wt = knots17(weights);
  const int64_t G = y.size(0), B = y.size(1);
  auto c = torch::empty_like(y), s = torch::empty_like(y);
  auto dc = torch::empty({G, 16}, y.options()), sm = torch::empty({G, 16}, y.options());
  std::vector<float> row_stat(G);
  ecf_rows(y.data_ptr<float>(), G, B, float(t0), ph.data(), wt.data(), row_stat.data(), c.data_ptr<float>(), s.data_ptr<float>(), dc.data_ptr<float>(),
           sm.data_ptr<float>(), nullptr);
  return {c, s, dc, sm, torch::full({}, row_mean(row_stat), y.options())};
}

// d mean-stat / d y[g, b] = t0 sum_k v_gk cos((k+1) theta) - u_gk sin((k+1) theta), with
// (u, v)_gk = 2 t0 w_(k+1) (k+1) (grad / G) (ECF_re - phi, ECF_im)_gk, from the saved c, s
// (the polynomial by grad_row, as in the one-node path, since session 39)
torch::Tensor backward(torch::Tensor c, torch::Tensor s, torch::Tensor dc, torch::Tensor sm,
                       torch::Tensor weights, double grad_mean, double t0) {
  TORCH_CHECK(c.is_contiguous() && s.is_contiguous() && dc.is_contiguous() && sm.is_contiguous());
  const auto wt = knots17(weights);
  const int64_t G = c.size(0), B = c.size(1);
  auto out = torch::empty_like(c);
  const float *C = c.data_ptr<float>(), *S = s.data_ptr<float>();
  const float *DC = dc.data_ptr<float>(), *SM = sm.data_ptr<float>();
  float *O = out.data_ptr<float>();
  const float scale0 = float(2.0 * t0 * (grad_mean / G));
  at::parallel_for(0, G, 1, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      float uk[16], vk[16];
      for (int k = 0; k < 16; ++k) {
        const float sc = scale0 * wt[k + 1] * float(k + 1);
        uk[k] = sc * DC[g * 16 + k]; vk[k] = sc * SM[g * 16 + k];
      }
      grad_row(C + g * B, S + g * B, uk, vk, B, O + g * B);
    }
  });
  return out;
}

// SIGReg whole, as one autograd node (session 39). h is (V, B, n) or (B, n): the embeddings,
// one row per sample, views first; or, with transposed = true, x (n, V B): the views'
// embeddings as columns, view-major. d (n, S) holds the directions. y = d^T x (x = h^T as
// a strided view) is (S, V B), i.e. the rows (s V + v) of B projections that ecf_rows takes.
// When h needs a gradient, the forward computes GY = dL/dy too (in ecf_rows, while each
// slice's cos and sin are in cache), and the backward is the projection's backward, one
// matmul with the directions scaled by the incoming gradient. Why one node: at 256 x 8 the
// Python autograd Function around the forward and backward kernels, the projection's
// separate nodes and the second parallel pass cost about as much as the kernels themselves
// (0.34 ms a call against kernels 0.19 and matmuls 0.03, session 39).
struct SIGRegFn : public torch::autograd::Function<SIGRegFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext *ctx, torch::Tensor h,
                               torch::Tensor d, bool transposed, int64_t batch, double t0,
                               torch::Tensor phi, torch::Tensor weights, bool need_grad) {
    const int64_t n = d.size(0);
    TORCH_CHECK(d.dim() == 2 && h.scalar_type() == torch::kFloat &&
                d.scalar_type() == torch::kFloat && batch > 0);
    auto x = transposed ? h : h.reshape({-1, n}).t();
    TORCH_CHECK(x.dim() == 2 && x.size(0) == n && x.size(1) % batch == 0);
    auto y = at::mm(d.t(), x).view({-1, batch});
    const auto ph = knots17(phi), wt = knots17(weights);
    const int64_t G = y.size(0);
    std::vector<float> row_stat(G);
    torch::Tensor gy = need_grad ? torch::empty_like(y) : torch::Tensor();
    ecf_rows(y.data_ptr<float>(), G, batch, float(t0), ph.data(), wt.data(), row_stat.data(),
             nullptr, nullptr, nullptr, nullptr, need_grad ? gy.data_ptr<float>() : nullptr);
    if (need_grad) {
      ctx->saved_data["gy"] = gy;
      ctx->saved_data["d"] = d;
      ctx->saved_data["transposed"] = transposed;
      ctx->saved_data["sizes"] = h.sizes().vec();
    }
    return torch::full({}, row_mean(row_stat), y.options());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grad) {
    // the saved GY has no graph: a second derivative through it would be silently zero
    TORCH_CHECK(!torch::autograd::GradMode::is_enabled(),
                "SIGReg's C++ node is differentiable once (create_graph=True is not supported)");
    // dh = (d g) GY for x (n, V B); for a row-major h its transpose GY^T (d g)^T, computed
    // as such: a contiguous gradient (a transposed view made every later copy of it a
    // strided one). The incoming gradient g scales the (n, S) directions, not the result:
    // one pass over the batch's gradient fewer (session 40)
    // For a row-major h with n <= 8 outputs the gradient is (d g) GY transposed by a copy:
    // MKL's product GY^T (d g)^T with so few columns took 3-18x as long as (d g) GY and the
    // copy (2 threads, 128-512 slices, 256-4096 rows; at n = 16 the two are within 0.75-1.47x
    // of each other either way). Through the node: 0.62-0.88x the time at n = 2-8, batch
    // 256-2048, 1 and 2 views (session 41, results/bench/sigreg_node_ab_s41.txt). The eager
    // path avoids the same product by copying h below 16 dimensions (SIGReg.statistic)
    auto gy = ctx->saved_data["gy"].toTensor();
    auto ds = ctx->saved_data["d"].toTensor() * grad[0];
    auto g2 = gy.view({ds.size(1), -1});
    const auto sizes = ctx->saved_data["sizes"].toIntVector();
    auto dh = ctx->saved_data["transposed"].toBool() ? at::mm(ds, g2)
              : ds.size(0) <= 8 ? at::mm(ds, g2).t().contiguous().view(sizes)
                                : at::mm(g2.t(), ds.t()).view(sizes);
    return {dh, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

torch::Tensor sigreg(torch::Tensor h, torch::Tensor d, bool transposed, int64_t batch,
                     double t0, torch::Tensor phi, torch::Tensor weights) {
  const bool need = torch::autograd::GradMode::is_enabled() && h.requires_grad();
  return SIGRegFn::apply(h, d, transposed, batch, t0, phi, weights, need);
}
"""

_EXT = None     # the built extension; False once building failed


def _flags() -> tuple[str, list[str]]:
    """The vector ISA torch found on this CPU, and g++ flags for it (none beyond -O3 when it
    is neither AVX2 nor AVX-512: the loops then vectorise for SSE)."""
    isa = torch.backends.cpu.get_cpu_capability()
    extra = {"AVX2": ["-mavx2", "-mfma"],
             "AVX512": ["-mavx512f", "-mavx512dq", "-mavx2", "-mfma"]}.get(isa, [])
    return isa, ["-O3", "-fopenmp", *extra]   # OpenMP: at::parallel_for's threads, omp simd


def build(prefix: str, source: str, functions: list[str], what: str, fallback: str,
          extra_flags: tuple[str, ...] = ()):
    """``source`` built by :func:`torch.utils.cpp_extension.load_inline` with :func:`_flags`
    (plus ``extra_flags``) and OpenMP, named by ``prefix``, the ISA and a hash of source,
    flags and the torch installation (torch caches the build); ``False`` after a warning naming ``what`` and the
    ``fallback`` used instead when it cannot be built (no g++, no ninja, ...)."""
    isa, flags = _flags()
    flags = [*flags, *extra_flags]
    # the torch it is built against in the name too: two checkouts with their own venvs
    # shared one build folder, each rewrote its build.ninja with its own include paths and
    # rebuilt, and the other waited (session 43, a user's trial beside the work tree)
    torch_id = f"{torch.__version__} {Path(torch.__file__).resolve().parent}"
    tag = hashlib.sha256((source + " ".join(flags) + torch_id).encode()).hexdigest()[:12]
    name = f"pycheck_{prefix}_{isa.lower()}_{tag}"
    global BUILD_SECONDS
    t0 = time.perf_counter()
    try:
        from torch.utils.cpp_extension import load_inline
        with _no_stale_torch_lock(name):
            if not _built(name):
                # a cold build is silent for 30-60 s: a user's first `pycheck reproduce`
                # printed nothing for a minute (session 50)
                print(f"pycheck: building the C++ kernels of the {what} (once per "
                      f"installation, 30-60 s; cached afterwards)", file=sys.stderr,
                      flush=True)
            return load_inline(name, cpp_sources=source, functions=functions,
                               extra_cflags=flags, extra_ldflags=["-fopenmp"], verbose=False)
    except Exception as err:  # noqa: BLE001 -- any failure to build: the fallback
        from .validate import KERNEL_FAILURES, reraise_interruption
        reraise_interruption(err)        # SLURM's time limit is not a failed build
        KERNEL_FAILURES.add(f"{prefix}_cpp")
        warnings.warn(f"{what}: building the C++ kernels failed ({type(err).__name__}: "
                      f"{str(err)[:200]}); using {fallback}", RuntimeWarning, stacklevel=5)
        return False
    finally:
        BUILD_SECONDS += time.perf_counter() - t0


#: seconds this process spent building or loading the C++ kernels (:func:`build`)
BUILD_SECONDS = 0.0


def _built(name: str) -> bool:
    """Whether torch's extension cache holds extension ``name`` already built (``True``
    when torch's private build-folder helper is gone: then nothing is announced)."""
    try:
        from torch.utils.cpp_extension import _get_build_directory
        return (Path(_get_build_directory(name, verbose=False)) / f"{name}.so").is_file()
    except Exception:  # noqa: BLE001 -- torch's internals moved
        return True


def prebuild() -> float:
    """Build (or load) both C++ extensions of the kit, SIGReg's and the RealNVP encoder's
    couplings, now; returns the seconds it took. ``pycheck reproduce`` calls it before an
    experiment so that a first run's timings do not hold the build (session 50, a user's
    trial: 62.7 s against 6.4 s for the same run warm), and ``make test`` before the tests."""
    from . import coupling_cpp
    t0 = time.perf_counter()
    _extension()
    coupling_cpp._extension()
    return time.perf_counter() - t0


# how long a load waits for another process's flock before it says that it waits
LOCK_QUIET_SECONDS = 2.0


@contextlib.contextmanager
def _no_stale_torch_lock(name: str):
    """Hold an ``flock`` on ``<build dir>/pycheck.flock`` while torch loads (or builds)
    extension ``name``, first deleting torch's own ``lock`` file there if one is left.

    Why: torch's cpp_extension takes a lock *file* (created, later deleted) for every load,
    even when the build is cached, and a process killed while holding it (Ctrl-C or kill
    during start-up) leaves it behind; every later load then waits for it forever, without
    a word (session 43: a killed trial hung every later ``pycheck`` and the test suite). An
    ``flock`` is released by the kernel when its holder dies, so whoever holds ours knows
    that no other pycheck process is inside torch's lock: a ``lock`` file present then is
    stale. Without torch's private ``_get_build_directory`` this does nothing extra."""
    import fcntl
    try:
        from torch.utils.cpp_extension import _get_build_directory
        folder = Path(_get_build_directory(name, verbose=False))
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / "pycheck.flock", "a")
    except Exception:  # noqa: BLE001 -- torch's internals moved, or no writable cache
        yield
        return
    with handle:
        # another process builds or loads it: wait, and say so if it takes a while. With
        # --jobs J the other process is usually a sibling worker loading the built kernels
        # at the same moment, for well under a second: said at once, a trial read that as
        # the kernels being rebuilt (session 47); a cold build takes 30-60 s
        deadline = time.monotonic() + LOCK_QUIET_SECONDS
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                print(f"pycheck: waiting for another pycheck process (another worker of this "
                      f"run, say) building or loading the C++ kernels in {folder}",
                      file=sys.stderr, flush=True)
                fcntl.flock(handle, fcntl.LOCK_EX)
                break
        stale = folder / "lock"
        if stale.exists():
            stale.unlink(missing_ok=True)
            print(f"pycheck: removed {stale}, left by a build or load that was interrupted",
                  file=sys.stderr, flush=True)
        yield


def _extension():
    global _EXT
    if _EXT is None:
        _EXT = build("sigreg", _SOURCE, ["forward", "backward", "sigreg"], "SIGReg",
                     "the compiled kernels")
    return _EXT or None


def forward(y: Tensor, t0: float, phi: Tensor, weights: Tensor):
    """:func:`pycheck.objectives._ecf_mean_forward` in C++: ``cos θ, sin θ``, ``ECF_re - phi``
    and ``ECF_im`` at knots 1..16 and the statistic averaged over the rows of ``y``."""
    c, s, dc, sin_m, stat = _EXT.forward(y, float(t0), phi, weights)
    return c, s, dc, sin_m, stat


def backward(c: Tensor, s: Tensor, dc: Tensor, sin_m: Tensor, weights: Tensor,
             grad_mean: Tensor, t0: float) -> Tensor:
    """:func:`pycheck.objectives._ecf_mean_backward` in C++ (no transcendental function)."""
    return _EXT.backward(c, s, dc, sin_m, weights, float(grad_mean), float(t0))


def sigreg(h: Tensor, directions: Tensor, t0: float, phi: Tensor, weights: Tensor,
           batch: int | None = None) -> Tensor:
    """SIGReg's statistic as one C++ autograd node: the projection of ``h`` (``(V, B, n)``
    or ``(B, n)``; or, given ``batch``, ``(n, V B)``: the views' embeddings as columns,
    view-major) on ``directions`` (``(n, S)``), the statistic averaged over the ``S V`` rows
    of ``B`` projections, and, when ``h`` needs a gradient, its gradient with respect to the
    projections computed in the same pass (the backward is one matmul with the directions)."""
    transposed = batch is not None
    return _EXT.sigreg(h, directions, transposed, int(batch if transposed else h.shape[-2]),
                       float(t0), phi, weights)


def kernels(y: Tensor, num_knots: int):
    """``(forward, backward)`` for :class:`pycheck.objectives._FusedECF`, or ``None`` where
    this kernel does not apply (not CPU float32 with 17 knots) or cannot be built."""
    if y.device.type != "cpu" or y.dtype != torch.float32 or num_knots != 17:
        return None
    return (forward, backward) if _extension() is not None else None

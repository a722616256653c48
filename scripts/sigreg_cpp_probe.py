"""Probe (issue 16, session 29; not used by the package): are SIGReg's compiled kernels at
the hardware's limit? Plain C++ loops (g++ -O3 -mavx2 -mfma, OpenMP over slices, one
`omp simd` loop over the batch: the doubling tree of pycheck.objectives._harmonics, then the
32 batch sums or the gradient's trigonometric polynomial) against inductor's two kernels, on
the same inputs (256 slices x batch B). Usage: python scripts/sigreg_cpp_probe.py THREADS B.
Needs g++ and ninja (torch.utils.cpp_extension). Results: results/bench/sigreg_cpp_probe_s29.txt."""
import time, sys, torch
from torch.utils.cpp_extension import load_inline
from pycheck import objectives as O

src = r"""
#include <torch/extension.h>
#include <omp.h>
// cos, sin of k th, k = 1..16, from c = cos th, s = sin th: the doubling tree of
// pycheck.objectives._harmonics (a macro: inside `omp simd`, as pycheck/sigreg_cpp.py's)
#define TREE(c, s, pc, ps)                                                                 \
  do {                                                                                     \
    (pc)[0] = (c); (ps)[0] = (s);                                                          \
    for (int k_ = 2; k_ <= 16; ++k_) {                                                     \
      const int a_ = 1 << (31 - __builtin_clz(k_ - 1));                                    \
      const float c1_ = (pc)[a_-1], s1_ = (ps)[a_-1], c2_ = (pc)[k_-a_-1], s2_ = (ps)[k_-a_-1]; \
      (pc)[k_-1] = c1_*c2_ - s1_*s2_; (ps)[k_-1] = s1_*c2_ + c1_*s2_;                      \
    }                                                                                      \
  } while (0)
// grad[g,b] = sum_k v[g,k] cos(k th) - u[g,k] sin(k th), k = 1..K, from c = cos th, s = sin th
// doubling tree as in pycheck.objectives._harmonics
torch::Tensor bwd_tree(torch::Tensor c, torch::Tensor s, torch::Tensor u, torch::Tensor v) {
  const int64_t G = c.size(0), B = c.size(1), K = u.size(1);
  auto out = torch::empty_like(c);
  const float *C = c.data_ptr<float>(), *S = s.data_ptr<float>();
  const float *U = u.data_ptr<float>(), *V = v.data_ptr<float>();
  float *O = out.data_ptr<float>();
  #pragma omp parallel for
  for (int64_t g = 0; g < G; ++g) {
    float uk[16], vk[16];
    for (int k = 0; k < 16; ++k) { uk[k] = U[g*K+k]; vk[k] = V[g*K+k]; }
    const float *cg = C + g*B, *sg = S + g*B; float *og = O + g*B;
    #pragma omp simd
    for (int64_t b = 0; b < B; ++b) {
      float pc[16], ps[16];
      TREE(cg[b], sg[b], pc, ps);
      float acc = 0.f;
      for (int k = 0; k < 16; ++k) acc += vk[k]*pc[k] - uk[k]*ps[k];
      og[b] = acc;
    }
  }
  return out;
}
// sums[g, k] = sum_b cos((k+1) th), sums[g, 16+k] = sum_b sin((k+1) th): the forward's 32
// batch sums from c, s; one omp simd reduction over the batch with 32 scalar accumulators
torch::Tensor fwd_sums2(torch::Tensor c, torch::Tensor s) {
  const int64_t G = c.size(0), B = c.size(1);
  auto out = torch::empty({G, 32}, c.options());
  const float *C = c.data_ptr<float>(), *S = s.data_ptr<float>();
  float *O = out.data_ptr<float>();
  #pragma omp parallel for
  for (int64_t g = 0; g < G; ++g) {
    const float *cg = C + g*B, *sg = S + g*B;
    float c0 = 0.f, c1 = 0.f, c2 = 0.f, c3 = 0.f, c4 = 0.f, c5 = 0.f, c6 = 0.f, c7 = 0.f, c8 = 0.f, c9 = 0.f, c10 = 0.f, c11 = 0.f, c12 = 0.f, c13 = 0.f, c14 = 0.f, c15 = 0.f, s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f, s4 = 0.f, s5 = 0.f, s6 = 0.f, s7 = 0.f, s8 = 0.f, s9 = 0.f, s10 = 0.f, s11 = 0.f, s12 = 0.f, s13 = 0.f, s14 = 0.f, s15 = 0.f;
    #pragma omp simd reduction(+: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15)
    for (int64_t b = 0; b < B; ++b) {
      float pc[16], ps[16];
      TREE(cg[b], sg[b], pc, ps);
      c0 += pc[0]; s0 += ps[0];
      c1 += pc[1]; s1 += ps[1];
      c2 += pc[2]; s2 += ps[2];
      c3 += pc[3]; s3 += ps[3];
      c4 += pc[4]; s4 += ps[4];
      c5 += pc[5]; s5 += ps[5];
      c6 += pc[6]; s6 += ps[6];
      c7 += pc[7]; s7 += ps[7];
      c8 += pc[8]; s8 += ps[8];
      c9 += pc[9]; s9 += ps[9];
      c10 += pc[10]; s10 += ps[10];
      c11 += pc[11]; s11 += ps[11];
      c12 += pc[12]; s12 += ps[12];
      c13 += pc[13]; s13 += ps[13];
      c14 += pc[14]; s14 += ps[14];
      c15 += pc[15]; s15 += ps[15];
    }
    O[g*32+0] = c0; O[g*32+16+0] = s0;
    O[g*32+1] = c1; O[g*32+16+1] = s1;
    O[g*32+2] = c2; O[g*32+16+2] = s2;
    O[g*32+3] = c3; O[g*32+16+3] = s3;
    O[g*32+4] = c4; O[g*32+16+4] = s4;
    O[g*32+5] = c5; O[g*32+16+5] = s5;
    O[g*32+6] = c6; O[g*32+16+6] = s6;
    O[g*32+7] = c7; O[g*32+16+7] = s7;
    O[g*32+8] = c8; O[g*32+16+8] = s8;
    O[g*32+9] = c9; O[g*32+16+9] = s9;
    O[g*32+10] = c10; O[g*32+16+10] = s10;
    O[g*32+11] = c11; O[g*32+16+11] = s11;
    O[g*32+12] = c12; O[g*32+16+12] = s12;
    O[g*32+13] = c13; O[g*32+16+13] = s13;
    O[g*32+14] = c14; O[g*32+16+14] = s14;
    O[g*32+15] = c15; O[g*32+16+15] = s15;
  }
  return out;
}

"""
ext = load_inline("kprobe", cpp_sources=src, functions=["bwd_tree", "fwd_sums2"],
                  extra_cflags=["-O3", "-mavx2", "-mfma", "-fopenmp"],
                  extra_ldflags=["-fopenmp"], verbose=False)
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
import os; os.environ["OMP_NUM_THREADS"] = str(threads)
G, B = 256, int(sys.argv[2]) if len(sys.argv) > 2 else 256
g = torch.Generator().manual_seed(0)
y = torch.randn(G, B, generator=g)
t0 = 0.5
phi = torch.exp(-(torch.arange(17.) * t0).square() / 2).double()
w = torch.ones(17).double()
fwd, bwd = O._fused_kernels(y.requires_grad_(), 17)
with torch.no_grad():
    c, s, dc, sin_m, stat = fwd(y, t0, phi, w)
    gm = torch.ones(())
    ref = bwd(c, s, dc, sin_m, w, gm, t0)
    # the same u, v as _ecf_backward builds
    k = torch.arange(1, 17, dtype=torch.float32)
    scale = 2 * t0 * w[1:].float() * k * (gm / G)
    u = (scale * dc).contiguous(); v = (scale * sin_m).contiguous()
    mine = ext.bwd_tree(c.contiguous(), s.contiguous(), u, v)
    print("max rel diff", ((mine - ref).abs().max() / ref.abs().max()).item())
    def tm(f, n=300):
        best = 1e9
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(n): f()
            best = min(best, (time.perf_counter() - t) / n)
        return best * 1e3
    sums = ext.fwd_sums2(c, s)
    ecf_c = sums[:, :16] / B - phi[1:].float()
    print("fwd max rel diff (dc)", ((ecf_c - dc).abs().max() / dc.abs().max()).item(),
          "(sin)", ((sums[:, 16:] / B - sin_m).abs().max() / sin_m.abs().max()).item())
    for r in range(3):
        f1 = tm(lambda: fwd(y, t0, phi, w))
        f2 = tm(lambda: ext.fwd_sums2(c, s))
        print(f"threads {threads} {G}x{B}: inductor fwd (incl. cos, sin) {f1:.3f} ms, C++ sums {f2:.3f} ms (c, s given)")
        a = tm(lambda: bwd(c, s, dc, sin_m, w, gm, t0))
        b = tm(lambda: ext.bwd_tree(c, s, u, v))
        e = tm(lambda: (torch.cos(y), torch.sin(y)))
        print(f"threads {threads} {G}x{B}: inductor bwd {a:.3f} ms, C++ tree {b:.3f} ms (u,v given), cos+sin {e:.3f} ms")

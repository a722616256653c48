"""Probe (issue 16, session 21): does torch.compile of the RealNVP encoder lift the training
step at N = 256 to >= 50% of the matmul ceiling?

Modes (the step is pycheck.bench's: fit_encoder's step in full at batch 512, 2 threads):
  eager  the package's encoder as it is
  ops    the coupling's elementwise tail (s, t split, bounded log-scale, exp, x e^s + t) and
         the conditioner's hidden tanh, each an autograd.Function whose forward and backward
         are compiled kernels (dynamic shapes): one fused pass each instead of 5-8 ops
  sigtanh  eager, with the coupling's bounded log-scale tanh computed as 2 sigmoid(2x) - 1
         (pycheck.encoders.Tanh's form; torch's CPU tanh kernel is the slow one)
  whole  torch.compile of RealNVPEncoder.forward (inductor, static shapes) with stock
         F.linear / torch.tanh (the package's hand-written Functions replaced, so that
         dynamo traces one graph; AOTAutograd fuses forward and backward elementwise work)

Usage: python scripts/encoder_compile_probe.py ROUNDS MODE[,MODE...] N[,N...] OBJ[,OBJ...]
Each (mode, N, objective) is set up once; the rounds interleave the modes (20 steps per
timing, after 20 warm-up steps that include compiling). Prints per row the median and the
min-max over rounds of ms per step. Output of session 21: results/bench/encoder_compile_s21.txt
"""
import statistics
import sys
import time

import torch
import torch.nn.functional as F

import pycheck.encoders as E
from pycheck import bench

torch.set_num_threads(2)
OPTS = {"cpp.dynamic_threads": True}


def tail_fwd(a, x_o, m: float):
    d = x_o.shape[1]
    s, t = a[:, :d], a[:, d:]
    th = torch.tanh(s / m)
    e = torch.exp(m * th)
    return x_o * e + t, e, th


def tail_bwd(gy, x_o, e, th):
    return torch.cat([gy * x_o * e * (1 - th * th), gy], 1), gy * e


def tanh_bwd(g, y):
    return g * (1 - y * y)


_K = {}


def kern(f):
    if f not in _K:
        _K[f] = torch.compile(f, dynamic=True, fullgraph=True, options=OPTS)
    return _K[f]


class Tail(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, x_o, m):
        y, e, th = kern(tail_fwd)(a, x_o, m)
        ctx.save_for_backward(x_o, e, th)
        return y

    @staticmethod
    def backward(ctx, gy):
        ga, gx = kern(tail_bwd)(gy, *ctx.saved_tensors)
        return ga, gx, None


class Hid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pre):
        y = kern(torch.tanh)(pre)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return kern(tanh_bwd)(g, y)


ORIG = dict(transform=E._Coupling.transform, tanh=E.Tanh.forward, linear=E.Linear.forward,
            enc=E.RealNVPEncoder.forward)
_WHOLE = torch.compile(ORIG["enc"], dynamic=False, options=OPTS)


def set_mode(mode):
    E._Coupling.transform, E.Tanh.forward = ORIG["transform"], ORIG["tanh"]
    E.Linear.forward, E.RealNVPEncoder.forward = ORIG["linear"], ORIG["enc"]
    if mode == "ops":
        E._Coupling.transform = lambda self, x_c, x_o: Tail.apply(
            self.net(x_c), x_o, float(self.max_log_scale))
        E.Tanh.forward = lambda self, x: Hid.apply(x)
    elif mode == "sigtanh":
        def transform(self, x_c, x_o):
            s, t = self.net(x_c).chunk(2, dim=-1)
            s = self.max_log_scale * E._apply(E._SigmoidTanh, s / self.max_log_scale)
            return x_o * torch.exp(s) + t
        E._Coupling.transform = transform
    elif mode == "whole":
        E.Linear.forward = lambda self, x: F.linear(x, self.weight, self.bias)
        E.Tanh.forward = lambda self, x: torch.tanh(x)
        E.RealNVPEncoder.forward = lambda self, x: _WHOLE(self, x)


def main():
    rounds, modes = int(sys.argv[1]), sys.argv[2].split(",")
    dims, objs = [int(a) for a in sys.argv[3].split(",")], sys.argv[4].split(",")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch 512; "
          f"dense matmul {bench.matmul_flops() / 1e9:.0f} GFLOP/s")
    for n in dims:
        for obj in objs:
            steps, times = {}, {m: [] for m in modes}
            for m in modes:
                set_mode(m)
                steps[m], _ = bench._step_setup(obj, n, 512, "cpu")
                for _ in range(20):
                    steps[m]()
            for _ in range(rounds):
                for m in modes:
                    set_mode(m)
                    t0 = time.perf_counter()
                    for _ in range(20):
                        steps[m]()
                    times[m].append((time.perf_counter() - t0) / 20 * 1e3)
            base = statistics.median(times[modes[0]])
            for m in modes:
                t = times[m]
                print(f"N {n:4d} {obj:8s} {m:6s} {statistics.median(t):7.2f} ms "
                      f"({min(t):.2f}-{max(t):.2f})  x{base / statistics.median(t):.2f} "
                      f"vs {modes[0]}", flush=True)
    set_mode("eager")


if __name__ == "__main__":
    main()

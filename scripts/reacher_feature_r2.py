"""Is the 2-D read-out or the CNN's features the limit of the Reacher quick encoder?

    MUJOCO_GL=egl .venv/bin/python scripts/reacher_feature_r2.py > results/reacher/feature_r2.txt

Retrains the quick profile's Gaussian-OU encoder (seed 0; bit-identical to the committed run
before its read-out) and prints the linear R² to the joint angles of all 128 penultimate
features and of the 2-D slow-feature read-out, on the whole bank (3 sigma grid) and on its
frames inside the 2 sigma box where the start and goal poses lie (|angle| <= 1.6 rad).
Needs the rendered quick data in results/reacher/cache.
"""
from __future__ import annotations

import tomllib

import numpy as np
import torch

from pycheck import reacher as R
from pycheck.experiments import reacher as E
from pycheck.metrics import linear_r2

PAIR_BOX = 1.6  # rad: the quick profile's pair_half_width


def r2_all_and_inner(h: np.ndarray, theta: np.ndarray) -> tuple[float, float]:
    inner = np.all(np.abs(theta) <= PAIR_BOX, axis=1)
    return round(linear_r2(h, theta), 4), round(linear_r2(h[inner], theta[inner]), 4)


def main() -> None:
    torch.set_num_threads(1)
    cfg = E.check_config(tomllib.load(open("experiments/reacher.toml", "rb"))["quick"])
    data = E._Data(cfg, "results/reacher")
    train, test = data.split("gauss-OU")
    m, _ = R.train_cnn(train["frames"], train["pairs"], steps=cfg["steps"],
                       batch_size=cfg["batch_size"], lr=cfg["lr"], seed=0, lam=cfg["lam"],
                       channels=cfg["channels"], progress=False)
    for name, d in (("bank", data.bank), ("ou_test", test)):
        phi = R.embed_frames(m, d["frames"], fn=m.features)
        print(name, "R2(128 features -> angles), all / within 2 sigma box",
              *r2_all_and_inner(phi, d["theta"]), flush=True)
    m.set_sfa_readout(train["frames"], train["pairs"], cfg["sfa_min_variance"])
    print("bank R2(sfa 2-d -> angles), all / within 2 sigma box",
          *r2_all_and_inner(R.embed_frames(m, data.bank["frames"]), data.bank["theta"]))


if __name__ == "__main__":
    main()

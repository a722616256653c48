"""pycheck: numeric checks and experiments for "When Does LeJEPA Learn a World Model?".

Library entry points (lazy, so that ``pycheck list`` does not import torch):

* :func:`fit_encoder` — train a LeJEPA encoder on observation pairs (``pycheck.train``);
* :func:`linear_r2` — R² of the best affine map from embeddings to latents (``pycheck.metrics``).
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["fit_encoder", "linear_r2", "__version__"]


def __getattr__(name: str):
    if name == "fit_encoder":
        from .train import fit_encoder
        return fit_encoder
    if name == "linear_r2":
        from .metrics import linear_r2
        return linear_r2
    raise AttributeError(f"module 'pycheck' has no attribute {name!r}")

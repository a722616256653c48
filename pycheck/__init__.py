"""pycheck: numeric checks and experiments for "When Does LeJEPA Learn a World Model?".

Library entry points (lazy, so that ``pycheck list`` does not import torch):

* :func:`fit_encoder` — train a LeJEPA encoder on observation pairs (``pycheck.train``);
* :func:`linear_r2` — R² of the best affine map from embeddings to latents (``pycheck.metrics``).
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["fit_encoder", "linear_r2", "__version__"]


def _submodules() -> set[str]:
    """The package's submodules, reachable as ``pycheck.NAME`` after ``import pycheck`` alone
    and imported at first use (session 46, an API trial: the README's ``pycheck.train.embed``
    and ``pycheck.sfa.sfa_readout`` raised AttributeError until something imported them)."""
    import pkgutil
    return {m.name for m in pkgutil.iter_modules(__path__)}


def __getattr__(name: str):
    if not name.startswith("_") and name in _submodules():
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    if name == "fit_encoder":
        from .train import fit_encoder
        return fit_encoder
    if name == "linear_r2":
        from .metrics import linear_r2
        return linear_r2
    raise AttributeError(f"module 'pycheck' has no attribute {name!r}")

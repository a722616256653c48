"""The paper's experiments, run by ``pycheck reproduce NAME``.

Each experiment has a config ``experiments/<name>.toml`` at the project root with a
``[quick]`` and a ``[full]`` table (same code path, different sizes: quick = minutes on 2
CPU cores, full = the paper's sizes, meant for a GPU; ``seeds`` is a key of each table),
and a module ``pycheck.experiments.<name>`` with

* ``THEOREMS``: the theorem IDs it backs (must agree with theorems.toml ``experiments``);
* ``run(cfg: dict, out: pathlib.Path, seeds: list[int]) -> dict``: runs (resumably, via
  :class:`pycheck.store.RunStore`), writes JSON + CSV + Markdown tables and PNG figures
  into ``out`` with the atomic writers of :mod:`pycheck.store`, returns a summary dict.
"""
from __future__ import annotations

import importlib
from types import ModuleType

NAMES = ("twod", "scaling", "gennorm", "bound", "control", "reacher", "anisotropic")


class ExperimentError(ValueError):
    """Bad experiment name or option; the message names the problem."""


class ExperimentFailed(RuntimeError):
    """The experiment ran but its result contradicts what it verifies (e.g. a T3 violation)."""


def get(name: str) -> ModuleType:
    if name not in NAMES:
        raise ExperimentError(f"unknown experiment {name!r}; valid: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")

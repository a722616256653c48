"""The paper's experiments, run by ``pycheck reproduce NAME``.

Each experiment has a config ``experiments/<name>.toml`` at the project root with a
``[quick]`` and a ``[full]`` table (same code path, different sizes: quick = minutes on 2
CPU cores, full = the paper's sizes, meant for a GPU; ``seeds`` is a key of each table),
and a module ``pycheck.experiments.<name>`` with

* ``THEOREMS``: the theorem IDs it backs (must agree with theorems.toml ``experiments``);
* ``run(cfg: dict, out: pathlib.Path, seeds: list[int] | None = None) -> dict``: runs
  (resumably, via :class:`pycheck.store.RunStore`), writes JSON + CSV + Markdown tables and
  PNG figures into ``out`` with the atomic writers of :mod:`pycheck.store`, returns a
  summary dict (its keys: the module's ``run`` docstring).

From Python (what ``pycheck reproduce NAME`` does, without the folder lock, the executors
and the table staging)::

    from pycheck import experiments
    cfg = experiments.load_config("control", "quick")     # experiments/control.toml's [quick]
    cfg["budgets"] = [10, 300]                            # any setting of the profile
    summary = experiments.get("control").run(cfg, "my-control", seeds=[0])

``run`` checks its arguments as the command line does (:func:`check_seeds`: a non-empty
list of distinct integers, run in increasing order; an output folder that can be written)
and raises :class:`ExperimentError` (a ``ValueError``) before any work.
"""
from __future__ import annotations

import functools
import importlib
import tomllib
from pathlib import Path
from types import ModuleType

NAMES = ("twod", "scaling", "gennorm", "bound", "control", "reacher", "anisotropic")


class ExperimentError(ValueError):
    """Bad experiment name or option; the message names the problem."""


class ExperimentFailed(RuntimeError):
    """The experiment ran but its result contradicts what it verifies (e.g. a T3 violation)."""


def get(name: str) -> ModuleType:
    """The module of experiment ``name`` (one of :data:`NAMES`): its ``run(cfg, out,
    seeds)``, ``check_config`` and ``THEOREMS``; :class:`ExperimentError` for another name."""
    if name not in NAMES:
        raise ExperimentError(f"unknown experiment {name!r}; valid: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")


def check_seeds(seeds, where: str = "seeds") -> list[int]:
    """``seeds`` sorted, or :class:`ExperimentError`: they must be a non-empty list of
    distinct integers in ``[0, 2^63)``. Sorted: the tables pool the seeds' runs in this
    order (control's bootstrap intervals differed between seeds 1 0 and 0 1) and an
    experiment's one-seed parts (anisotropic's map search, control's plotted bank) take the
    first. A repeated seed would count its runs twice (a user's trial, session 50: through
    ``run()`` called from Python, gennorm reported 2 seeds with a spread of 0)."""
    if (not isinstance(seeds, (list, tuple)) or not seeds
            or any(isinstance(s, bool) or not isinstance(s, int) for s in seeds)):
        # a profile's `seeds = ["x"]`, `[0.5]` or `[]` raised TypeError / IndexError inside
        # the experiment, after its plan was written (session 36)
        raise ExperimentError(f"{where} must be a non-empty list of integers, got {seeds!r}")
    if any(not 0 <= s < 2 ** 63 for s in seeds):   # the runs' generators take 64-bit seeds
        raise ExperimentError(f"{where} must be integers in [0, 2^63)")
    if len(set(seeds)) != len(seeds):
        raise ExperimentError(f"{where} lists a seed more than once: "
                              f"{' '.join(map(str, seeds))}")
    return sorted(seeds)


def load_config(name: str, profile: str = "quick", root: str | Path | None = None) -> dict:
    """The settings of experiment ``name``'s ``profile`` (``"quick"`` or ``"full"``) from
    ``experiments/<name>.toml`` under ``root`` (default: the folder of the manifest
    :func:`pycheck.manifest.find_manifest` finds), with ``profile`` set; a copy to edit."""
    get(name)
    if root is None:
        from ..manifest import ManifestError, find_manifest
        try:
            root = find_manifest().parent
        except ManifestError as exc:
            raise ExperimentError(f"no experiments/ folder found ({exc}); pass root=") from None
    path = Path(root) / "experiments" / f"{name}.toml"
    if not path.is_file():
        raise ExperimentError(f"no config {path}")
    try:
        cfgs = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(f"{path}: not valid TOML: {exc}") from None
    if profile not in cfgs or not isinstance(cfgs[profile], dict):
        raise ExperimentError(f"{path} has no [{profile}] profile")
    return dict(cfgs[profile], profile=profile)


def entry(fn=None, *, seeds_used: bool = True):
    """An experiment's ``run(cfg, out, seeds=None)`` with its arguments checked first, as
    ``pycheck reproduce`` checks them: ``cfg`` a dict, ``out`` a folder that can be written
    (:func:`pycheck.store.check_writable`), ``seeds`` (default: ``cfg["seeds"]``, else
    ``[0]``) through :func:`check_seeds`. ``seeds_used=False``: the experiment reads other
    experiments' runs and ignores them (bound)."""
    if fn is None:
        return functools.partial(entry, seeds_used=seeds_used)

    @functools.wraps(fn)
    def run(cfg: dict, out, seeds=None) -> dict:
        from ..store import check_writable
        if not isinstance(cfg, dict):
            raise ExperimentError(f"cfg must be a dict of settings (load_config gives one), "
                                  f"got {type(cfg).__name__}")
        out = Path(out)
        try:
            check_writable("out", out, "folder")
        except ValueError as exc:
            raise ExperimentError(str(exc)) from None
        if seeds_used:
            seeds = check_seeds(cfg.get("seeds", [0]) if seeds is None else seeds)
        return fn(cfg, out, seeds)
    return run

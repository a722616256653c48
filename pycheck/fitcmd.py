"""``pycheck fit``: :func:`pycheck.train.fit_encoder` on a user's own data, from the shell.

The data is a NumPy file: an ``.npz`` with two arrays of positive pairs (``--x``,
``--x-next``, rows matched) or one sequence (``--sequence KEY``: consecutive rows are the
pairs; a 3-D array ``(episodes, T, d)`` pairs rows within each episode only, and
``--episode KEY``, an integer id per row, does so for episodes of different lengths laid end
to end), or an ``.npy`` holding one such sequence. Optional ``--z KEY``: the true latents of the rows of ``x``
(of the sequence's rows), used only to report ``R²(x -> z)`` and ``R²(h -> z)``
(:func:`pycheck.metrics.linear_r2`), never in training. Optional ``--test FILE``: fresh
data laid out as DATA, embedded after training and scored on what training never saw (its
whitened alignment, :func:`pycheck.train.whitened_alignment`; R² with ``--z``).

Written to ``--out DIR``: ``encoder.pt`` (the returned module, ``torch.save``d from the CPU
whatever device trained it; load with ``torch.load(path, weights_only=False)`` and embed
with :func:`pycheck.train.embed`),
``embedding.npy`` (the embedding of every row of ``x``, or of every row of the sequence,
float64; ``test_embedding.npy`` likewise for ``--test``), ``history.png`` (:func:`pycheck.train.plot_history`), ``slowness.png``
(:func:`pycheck.train.plot_slowness`, with held-out pairs) and, last, ``fit.json`` (the
arguments, the held-out objective, the read-out and checkpoint chosen, seconds, the R²
values if ``--z`` was given). While it trains, ``DIR/fit.ckpt`` holds the training state
(``fit_encoder(checkpoint=...)``): an interrupted fit (Ctrl-C, a killed job) resumes from it
when the same command is run again, to the same bits. Bad input exits with code 2 before
any training, leaving nothing behind; a finished fit (``fit.json``) is never overwritten.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import math
import re
import statistics
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

OBJECTIVES = ("whitened", "sigreg", "vicreg", "infonce")


class DataError(ValueError):
    """The data file or its arrays cannot be used (the CLI exits with code 2)."""


#: what reading a damaged file raises: np.load on a truncated .npz raised BadZipFile, and a
#: corrupt compressed member zlib.error when its array was read (tracebacks, session 36)
_READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)


#: fit_encoder's default number of steps: the flag's default; below it,
#: sample_hint names the steps first (a test keeps it equal to fit_encoder's)
DEFAULT_STEPS = 3000


#: the files pycheck fit writes into --out (and its checkpoint while it trains)
OUTPUTS = ("encoder.pt", "embedding.npy", "test_embedding.npy", "history.png",
           "slowness.png", "fit.json", "fit.ckpt")


def add_arguments(s: argparse.ArgumentParser, path_arg) -> None:
    s.add_argument("data", metavar="DATA", type=path_arg,
                   help=".npz with arrays of pairs (--x, --x-next) or a sequence "
                        "(--sequence), or .npy holding one sequence")
    s.add_argument("--out", metavar="DIR", type=path_arg, required=True,
                   help="output folder (encoder.pt, embedding.npy, history.png, slowness.png, "
                        "fit.json)")
    s.add_argument("--x", metavar="KEY", help="first views in the .npz (default x)")
    s.add_argument("--x-next", metavar="KEY",
                   help="second views in the .npz (default x_next)")
    s.add_argument("--sequence", metavar="KEY",
                   help="one array (T, d), (episodes, T, d) or (T,) in the .npz whose consecutive "
                        "rows are the pairs (an .npy is always a sequence)")
    s.add_argument("--episode", metavar="KEY",
                   help="with a (T, d) or (T,) --sequence: an integer array (T,) naming "
                        "each row's episode, for episodes of different lengths laid end to "
                        "end; consecutive rows are a pair only within one episode, and each "
                        "episode's rows must be consecutive (from flags done[t] marking each "
                        "episode's last row: np.r_[0, np.cumsum(done[:-1])])")
    s.add_argument("--z", metavar="KEY", help="true latents of the rows, only to report R²")
    s.add_argument("--test", metavar="FILE", type=path_arg,
                   help="fresh data laid out as DATA (same keys): embedded after training "
                        "and scored (held-out whitened alignment; R² with --z), never "
                        "trained on")
    s.add_argument("--objective", choices=OBJECTIVES, default="whitened",
                   help="training objective (default whitened: fit_encoder's default)")
    s.add_argument("--encoder", choices=("residual-mlp", "mlp"), default="residual-mlp")
    s.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                   help=f"Adam steps (default {DEFAULT_STEPS})")
    s.add_argument("--batch-size", type=int, default=1024, help="pairs per step (default 1024)")
    s.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--holdout", type=float, default=0.1,
                   help="share of pairs held out to select the checkpoint (default 0.1)")
    s.add_argument("--dim-out", type=int, metavar="K",
                   help="embedding width (default: d, or the columns' rank where that is "
                        "lower; a WidthReduced warning says so)")
    s.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="another fit_encoder option, VALUE in JSON, e.g. lam=0.1 or "
                        "'warm_start={\"objective\": \"vicreg\", \"steps\": 2000}' (repeatable)")
    s.add_argument("--threads", type=int, metavar="T",
                   help="CPU threads for training (default: torch's)")
    s.add_argument("--device", help="cpu or cuda (default: cuda when present)")


#: fit_encoder arguments that have their own flag or that the command sets itself
_RESERVED = {"x", "x_next", "objective", "encoder", "steps", "batch_size", "lr", "seed",
             "holdout", "dim_out", "device", "progress", "checkpoint", "checkpoint_every",
             "sampler"}


def parse_options(pairs: list[str]) -> dict:
    """``KEY=VALUE`` strings to a dict, each VALUE parsed as JSON (a bare word that is not
    JSON is kept as a string)."""
    out = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key.isidentifier():
            raise DataError(f"--option {item!r}: expected KEY=VALUE")
        if key in _RESERVED:
            raise DataError(f"--option {key}: use the command's own flag for it"
                            if key not in ("progress", "checkpoint", "checkpoint_every",
                                           "sampler", "x", "x_next")
                            else f"--option {key}: set by pycheck fit itself")
        if key in out:
            raise DataError(f"--option {key} given more than once")
        try:
            out[key] = json.loads(value)
        except ValueError as exc:
            if value.strip()[:1] in "[{\"" and value.strip():
                # meant as JSON (a list, a table, a quoted string) but not valid: it was kept
                # as a string and refused as "lam must be a finite number" (session 51)
                raise DataError(f"--option {item!r}: {value!r} is not valid JSON "
                                f"({exc.msg} at character {exc.pos})") from None
            out[key] = value
    return out


def _array(arrays, key: str, flag: str, path: Path) -> np.ndarray:
    if key not in arrays:
        raise DataError(f"{path}: no array {key!r} ({flag}); it holds "
                        f"{', '.join(sorted(arrays)) or 'none'}")
    try:
        a = np.asarray(arrays[key])
    except _READ_ERRORS as err:     # e.g. an object array (pickles are refused)
        raise DataError(f"{path}: array {key!r} cannot be read ({err})") from None
    if a.dtype.kind not in "biuf":
        raise DataError(f"{path}: array {key!r} is {a.dtype}, not real numbers")
    return a


def _pairs_of_sequence(a: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    if a.ndim == 2:
        return a[:-1], a[1:]
    if a.ndim == 3:
        d = a.shape[2]
        return a[:, :-1].reshape(-1, d), a[:, 1:].reshape(-1, d)
    raise DataError(f"sequence {name} must have shape (T,), (T, d) or (episodes, T, d), got "
                    f"{a.shape}")


def _pairs_within_episodes(seq: np.ndarray, episode: np.ndarray, name: str,
                           key: str) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive rows of ``seq`` (T, d) whose ``episode`` labels (T,) are equal: episodes
    of different lengths laid end to end (a user's layout that (episodes, T, d) cannot hold)."""
    if seq.ndim != 2:
        raise DataError(f"--episode {key} goes with a (T, d) or (T,) sequence; {name} has "
                        f"shape {seq.shape} (an (episodes, T, d) array needs no --episode)")
    # booleans refused: raw done flags of one episode would read as two (a review's find)
    if episode.dtype.kind not in "iu":
        raise DataError(f"--episode {key} must hold integers (episode ids), not {episode.dtype}")
    if episode.shape != (len(seq),):
        raise DataError(f"--episode {key} has shape {episode.shape}; the sequence {name} has "
                        f"{len(seq)} rows: one episode id per row")
    same = episode[1:] == episode[:-1]
    if not same.any():          # before indexing: an empty sequence raised an IndexError
        ids, counts = np.unique(episode, return_counts=True)
        if (counts > 1).any():
            # interleaved ids (np.tile(np.arange(4), 1500)) read "no episode has two rows"
            # while each had 1500 (session 49, a user's trial)
            bad = ids[np.argmax(counts > 1)]
            raise DataError(f"--episode {key}: episode {int(bad)} has "
                            f"{int(counts[np.argmax(counts > 1)])} rows but no two of them "
                            "consecutive; each episode's rows must be consecutive (sort the "
                            "rows by episode, keeping their time order)")
        raise DataError(f"--episode {key}: no episode has two rows, so there is no pair")
    starts = np.flatnonzero(np.r_[True, ~same])          # first row of each run of one id
    ids = episode[starts]
    _, first, counts = np.unique(ids, return_index=True, return_counts=True)
    if (counts > 1).any():
        # named: the id whose second run comes first in the rows
        seen = np.zeros(len(ids), bool)
        seen[first] = True
        bad = ids[np.flatnonzero(~seen)[0]]
        runs = starts[ids == bad]
        raise DataError(f"--episode {key}: episode {int(bad)} is in {int((ids == bad).sum())} "
                        f"separate runs of rows (starting at rows "
                        f"{', '.join(str(int(r)) for r in runs[:3])}{', ...' if len(runs) > 3 else ''}); "
                        "each episode's rows must be consecutive")
    return seq[:-1][same], seq[1:][same]


def load_pairs(args, path=None) -> dict:
    """Read the data file (``args.data``, or ``path`` laid out the same way): ``x, x_next``
    (pairs), ``rows`` (what is embedded: ``x`` or the whole sequence, flattened) and ``z``
    (latents of ``rows`` or ``None``); ``DataError`` for anything that cannot be used."""
    path = Path(args.data if path is None else path)
    if not path.is_file():      # a folder or a device was "no such file" too (session 42)
        raise DataError(f"{path}: " + ("a folder, not a data file" if path.is_dir() else
                                       "not a regular file" if path.exists() else
                                       "no such file"))
    with open(path, "rb") as f:
        magic = f.read(6)
    if not (magic.startswith(b"\x93NUMPY") or magic.startswith(b"PK")):
        # NumPy's own message for such a file suggests allow_pickle=, the wrong fix for a
        # text or other file (session 37)
        raise DataError(f"{path}: not a NumPy .npy/.npz file (it starts with {magic!r}, not "
                        "with NumPy's or zip's signature); save arrays with np.save or "
                        "np.savez")
    if (args.x is not None or args.x_next is not None) and args.sequence:
        raise DataError(_PAIRS_OR_SEQUENCE.format("--sequence"))
    if path != Path(args.data) and Path(args.data).is_file():
        # --test is read as DATA is: an .npy sequence beside an .npz of pairs was read as a
        # sequence all the same (session 51, a user's trial)
        with open(args.data, "rb") as f:
            data_npy = f.read(6).startswith(b"\x93NUMPY")
        if data_npy != magic.startswith(b"\x93NUMPY"):
            kinds = {True: "an .npy (one sequence)", False: "an .npz"}
            raise DataError(f"--test {path} is {kinds[not data_npy]} but DATA {args.data} is "
                            f"{kinds[data_npy]}: the test file must be laid out as DATA")
    try:
        loaded = np.load(path, allow_pickle=False)
    except _READ_ERRORS as err:
        raise DataError(f"{path}: not a NumPy .npy/.npz file ({err})") from None
    if (args.x is not None or args.x_next is not None) and isinstance(loaded, np.ndarray):
        raise DataError(_PAIRS_OR_SEQUENCE.format(f"{path} (an .npy: one sequence)"))
    if isinstance(loaded, np.ndarray):
        if args.sequence or args.z or getattr(args, "episode", None):
            raise DataError(f"{path} is an .npy (one sequence): --sequence, --episode and --z "
                            "need an .npz")
        return _select({"(the .npy)": loaded}, args, path, "(the .npy)")
    with loaded:                        # reads only the arrays asked for
        return _select(loaded, args, path, args.sequence)


# --x with a sequence was ignored (session 47, a user's trial)
_PAIRS_OR_SEQUENCE = ("--x/--x-next name the arrays of pairs; {} makes its pairs of "
                      "consecutive rows: pass one or the other")


def _select(arrays, args, path: Path, seq_key: str | None) -> dict:
    z = None
    if seq_key is not None:
        seq = _array(arrays, seq_key, "--sequence", path)
        if seq.ndim == 1:               # one sequence of scalar observations, (T,) as (T, 1)
            seq = seq[:, None]
        if seq.ndim in (2, 3) and not np.isfinite(seq).all():
            # named by its row: fit_encoder's message named x_next, an array the user never
            # gave (session 42)
            bad = np.argwhere(~np.isfinite(seq))[0]
            raise DataError(f"sequence {seq_key} has {int((~np.isfinite(seq)).sum())} NaN or "
                            f"inf entries, the first at index {tuple(int(i) for i in bad)}")
        if seq.ndim in (2, 3) and seq.shape[-1] == 0:
            # a (T, 0) sequence ended in a reshape traceback (session 44)
            raise DataError(f"sequence {seq_key} has no columns (shape {seq.shape})")
        if seq.ndim == 2 and 1 < seq.shape[0] < seq.shape[1] and not args.z:
            # fewer time steps than channels: refused later as pairs and batch_size, which
            # a user of --sequence never gave (session 49, a user's trial)
            raise DataError(f"sequence {seq_key} has shape {seq.shape}: fewer rows (time "
                            "steps) than columns; one observation per row: is it "
                            f"transposed? (pass {seq_key}.T)")
        episode_key = getattr(args, "episode", None)
        if episode_key is not None:
            x, x_next = _pairs_within_episodes(seq, _array(arrays, episode_key, "--episode",
                                                           path), seq_key, episode_key)
        else:
            x, x_next = _pairs_of_sequence(seq, seq_key)
        rows = seq.reshape(-1, seq.shape[-1])
        if args.z:
            z = _array(arrays, args.z, "--z", path)
            if z.ndim == seq.ndim and z.shape[-1] == 0:
                raise DataError(f"--z {args.z} has no columns (shape {z.shape})")
            if z.shape == seq.shape[:-1]:   # one scalar latent per row
                z = z[..., None]
            if (z.shape[:-1] != seq.shape[:-1] or z.ndim != seq.ndim) and seq.ndim == 2 \
                    and z.ndim in (1, 2) and z.shape[0] == seq.shape[1] != seq.shape[0]:
                # a transposed sequence was blamed on --z (noticed in session 48)
                raise DataError(f"sequence {seq_key} has shape {seq.shape} and --z {args.z} "
                                f"{z.shape}: the sequence looks transposed (one observation "
                                f"per row; pass {seq_key}.T)")
            if z.shape[:-1] != seq.shape[:-1] or z.ndim != seq.ndim:
                raise DataError(f"--z {args.z} has shape {z.shape}; the sequence has "
                                f"{seq.shape}: one latent row per sequence row")
            z = z.reshape(-1, z.shape[-1])
    else:
        if getattr(args, "episode", None) is not None:
            raise DataError("--episode names the episodes of a --sequence; pass --sequence KEY")
        x_key, x_next_key = args.x or "x", args.x_next or "x_next"
        x = _array(arrays, x_key, "--x", path)
        x_next = _array(arrays, x_next_key, "--x-next", path)
        for a, key, flag in ((x, x_key, "--x"), (x_next, x_next_key, "--x-next")):
            # a 1-D or 0-D array ended in an IndexError traceback (session 42)
            if a.ndim != 2:
                raise DataError(f"{path}: array {key!r} ({flag}) must have shape (N, d), "
                                f"one pair's view per row; got {a.shape}"
                                + (" (for one scalar channel: x[:, None])" if a.ndim == 1
                                   else ""))
        rows = x
        if args.z:
            z = _array(arrays, args.z, "--z", path)
            if z.ndim == 1 and len(z) == len(x):   # one scalar latent per pair, as --sequence
                z = z[:, None]
            if z.ndim != 2 or len(z) != len(x):
                raise DataError(f"--z {args.z} must have shape (N, n) with N = {len(x)} rows "
                                f"like --x; got {z.shape}")
    if z is not None and not np.isfinite(z).all():
        raise DataError(f"--z {args.z} has non-finite values")
    layout = (dict(x=args.x or "x", x_next=args.x_next or "x_next") if seq_key is None else
              dict(sequence=seq_key, episode=getattr(args, "episode", None)))
    return dict(x=x, x_next=x_next, rows=rows, z=z, layout=layout)


def check_before_training(data: dict, test: dict | None, args) -> dict:
    """Everything about the data that training does not check, checked before it: the
    ``--test`` pairs as ``fit_encoder`` checks the training pairs (and enough of them to
    score the embedding), and ``--z`` by computing ``R²(x -> z)`` now (a constant or
    overflowing z). Until session 36 these failed after training, with a traceback, exit
    1 and a half-written folder. Returns ``{"data": R², "test": R²}`` for the files with z."""
    from .metrics import linear_r2
    from .train import _as_tensor
    width = args.dim_out if args.dim_out else data["x"].shape[1]
    if test is not None:
        for key in ("x", "x_next"):
            try:
                _as_tensor(key, test[key])
            except ValueError as err:
                raise DataError(f"--test {args.test}: {err}") from None
        if test["x"].shape != test["x_next"].shape:
            raise DataError(f"--test {args.test}: x and x_next have shapes {test['x'].shape} "
                            f"and {test['x_next'].shape}")
        if np.array_equal(test["x"], test["x_next"]):
            # scored "whitened alignment 0" (session 49, a user's trial)
            raise DataError(f"--test {args.test}: x_next equals x (each pair one observation "
                            "twice): such pairs score 0 for every encoder")
        if len(test["x"]) < max(4, width + 2):
            raise DataError(f"--test {args.test}: {len(test['x'])} pairs; scoring a "
                            f"{width}-wide embedding needs at least {max(4, width + 2)}")
    r2 = {}
    for name, d in (("data", data), ("test", test)):
        if d is None or d["z"] is None:
            continue
        where = f"--z {args.z}" + (f" in --test {args.test}" if name == "test" else "")
        try:
            _as_tensor("the rows", d["rows"])
        except ValueError:
            continue                    # fit_encoder (or the check above) says what is wrong
        try:
            with np.errstate(over="ignore", invalid="ignore"):   # said below, in one line
                r2[name] = linear_r2(d["rows"], d["z"])
        except ValueError as err:
            raise DataError(f"{where}: {err}") from None
        if not math.isfinite(r2[name]):
            raise DataError(f"{where}: R²(x→z) is not a number (max |z| = "
                            f"{np.abs(d['z']).max():.3g}: too large for float64 sums of "
                            "squares?); rescale z")
    return r2


def _sha256(path: Path) -> str:
    import hashlib
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _error(msg: str):
    from .cli import UsageError
    return UsageError(cli_words(msg))


def cli_words(text: str) -> str:
    """fit_encoder's advice in the command's flags: "pass dim_out=6" (session 48), "pass
    whiten='none'" and "call torch.set_num_threads(1) first" (session 49) named Python
    arguments a ``pycheck fit`` user cannot pass."""
    text = text.replace("pass dim_out=", "pass --dim-out ")
    text = text.replace("a smaller dim_out", "a smaller --dim-out")
    text = text.replace("pass holdout=0", "pass --holdout 0").replace(
        "or holdout=0", "or --holdout 0").replace("pass holdout > 0", "pass --holdout > 0")
    text = text.replace("a larger holdout", "a larger --holdout").replace(
        "a smaller holdout", "a smaller --holdout")
    text = text.replace("whiten='none'", "--option 'whiten=\"none\"'").replace(
        "whiten='diag'", "--option 'whiten=\"diag\"'")
    text = text.replace("leave readout unset", "leave out --option readout")
    # the dropped-latent and linear-map warnings (session 51, a user's trial)
    text = re.sub(r"objective='(\w+)'", r"--objective \1", text)
    text = text.replace("model.coverage has the figures", "fit.json's coverage has the figures")
    text = text.replace("enc.selected = ", "fit.json's selected = ").replace(
        "enc.candidates has", "its candidates have")
    return re.sub(r"call torch\.set_num_threads\((\d+)\) first", r"pass --threads \1",
                  text)


def run(args) -> int:
    """The ``pycheck fit`` command (``args`` from :func:`add_arguments`)."""
    import warnings

    from .train import LowPrecisionInput
    # said once below, in the command's words: fit_encoder's own warning came four times,
    # two as raw Python warnings, one naming "the rows" (session 48, a user's trial)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LowPrecisionInput)
        return _run(args)


def _run(args) -> int:
    import torch

    from .metrics import linear_r2
    from .store import FolderBusy, lock_folder, missing_folders

    out = Path(args.out)
    _refuse_finished(out)
    if out.exists() and not out.is_dir():
        raise _error(f"--out: {out} exists and is not a folder")
    from .cli import _writable_target
    # before any work, as reproduce and verify --json do: a read-only --out failed after the
    # training, naming a temporary file (session 44)
    _writable_target("--out", out, "folder")
    if (out / "runs").is_dir() or (out / "jobs" / "plan.json").is_file():
        # a fit wrote into a reproduce folder without a word, and reproduce into a fit's
        # (session 44)
        raise _error(f"--out {out} holds the runs of a pycheck reproduce; pass another folder")
    for name in OUTPUTS:
        if (out / name).exists() and not (out / name).is_file():
            raise _error(f"--out: {out / name} exists and is not a file; pycheck fit writes "
                         "its results there")
    if args.threads is not None and args.threads < 1:
        raise _error(f"--threads must be >= 1, got {args.threads}")
    try:
        options = parse_options(args.option)
        data = load_pairs(args)
        try:
            test = None if args.test is None else load_pairs(args, args.test)
        except DataError as err:         # named as the data file's, without the flag (s44)
            raise DataError(f"--test: {err}") from None
        if test is not None and test["x"].shape[1:] != data["x"].shape[1:]:
            raise DataError(f"--test {args.test}: rows of width {test['x'].shape[1:]}, the "
                            f"data's are {data['x'].shape[1:]}")
        r2_xz = check_before_training(data, test, args)
    except DataError as err:
        raise _error(str(err)) from None
    if data["x"].dtype == np.float16:
        print(f"pycheck fit: LowPrecisionInput: {args.data} holds float16 values (about 3 "
              "significant digits); the fit sees those rounded values (its rank cut allows "
              "for them). Pass float32 or float64 data if you have it", file=sys.stderr,
              flush=True)
    made = missing_folders(out)         # the folders this command creates, deepest first
    # one fit per folder at a time: a second `pycheck fit` into it trained beside the first,
    # on its checkpoint, and overwrote its finished fit (session 42). The lock is the folder
    # reproduce uses (an flock, released by the kernel when its holder dies)
    try:
        with lock_folder(out, "pycheck fit"):
            _refuse_finished(out)               # finished while this one waited to start
            return _fit_into(out, made, args, options, data, test, r2_xz)
    except FolderBusy as err:
        raise _error(str(err)) from None


@contextlib.contextmanager
def _one_line_warnings():
    """fit_encoder's warnings as the command's other messages: one line on stderr, each
    once. The rank warning printed as a Python warning, naming a line of train.py and
    its source, once per fit of the default's two (session 48, a user's trial)."""
    import warnings
    seen = set()

    def show(message, category, filename, lineno, file=None, line=None):
        # the command's flag, not the Python argument ("pass dim_out=6": session 48)
        text = cli_words(f"pycheck fit: {category.__name__}: {message}")
        if text not in seen:
            seen.add(text)
            print(text, file=sys.stderr, flush=True)
    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def _refuse_finished(out: Path) -> None:
    """A finished fit (its fit.json, written last) is never overwritten."""
    if (out / "fit.json").exists():
        raise _error(f"--out {out} already holds a finished fit (fit.json); pass another "
                     "folder or delete it")


def _fit_into(out: Path, made: list, args, options: dict, data: dict, test, r2_xz) -> int:
    """``run``'s training and writing, with ``out`` locked."""
    from .store import remove_empty_folders
    from .train import (CheckpointMismatch, TrainingDiverged, fit_encoder, keeping_checkpoint,
                        linear_map_unsaid, set_threads)
    ckpt = out / "fit.ckpt"
    if args.threads is not None:
        set_threads(args.threads)
    kwargs = dict(objective=args.objective, encoder=args.encoder, steps=args.steps,
                  batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                  holdout=args.holdout, dim_out=args.dim_out, device=args.device,
                  progress=True, checkpoint=ckpt, **options)
    try:
        # the checkpoint stays until the outputs are written: a Ctrl-C or a full disk while
        # writing them had thrown the finished training away (session 44)
        with keeping_checkpoint(), linear_map_unsaid(), _one_line_warnings():
            model = fit_encoder(data["x"], data["x_next"], **kwargs)   # (the hint below
            # says LinearMapKept's advice, once)
    except CheckpointMismatch:
        remove_empty_folders(made)
        raise _error(f"--out {out}: its fit.ckpt is not from this command and data (or cannot "
                     f"be read); delete {ckpt} to start afresh, or pass another --out") from None
    except ValueError as err:                  # fit_encoder refuses bad input before training
        remove_empty_folders(made)
        raise _error(str(err)) from None
    except (KeyboardInterrupt, OSError):
        # interrupted before the first save: nothing to resume; a file-system error (a full
        # disk) while saving the checkpoint: the last good save, if any, stays for a rerun,
        # and main() says which file in one line (exit 2)
        remove_empty_folders(made)
        raise
    except TrainingDiverged as err:
        ckpt.unlink(missing_ok=True)           # resuming would diverge again
        remove_empty_folders(made)
        print(f"pycheck fit: error: {err}", file=sys.stderr, flush=True)
        return 1
    written: list[Path] = []
    try:
        rc = _write_fit(out, args, kwargs, model, data, test, r2_xz, written)
    except BaseException:
        # a full or read-only disk, or Ctrl-C, while writing the results: none of them is
        # left (fit.json, written last, is what marks a finished fit); the checkpoint stays,
        # so the same command again writes them without training (it resumes at the end)
        for f in written:
            with contextlib.suppress(OSError):
                f.unlink(missing_ok=True)
        if ckpt.exists():
            print(f"pycheck fit: the training is finished and kept in {ckpt}; the same "
                  "command again writes the results without training", file=sys.stderr,
                  flush=True)
        else:
            remove_empty_folders(made)
        raise
    ckpt.unlink(missing_ok=True)
    return rc


def _write_fit(out: Path, args, kwargs: dict, model, data: dict, test, r2_xz,
               written: list) -> int:
    """The results of a finished fit into ``out`` (each file appended to ``written``)."""
    import torch

    from .metrics import linear_r2
    from .store import atomic_write_bytes, write_json
    from .train import embed, plot_history, plot_slowness, whitened_alignment

    def keep(path):
        written.append(Path(path))
        return path
    h = embed(model, data["rows"])
    # best_step counts from a warm start's first step (fit_encoder), so the hint does too
    total_steps = args.steps + (kwargs["warm_start"]["steps"] if kwargs.get("warm_start") else 0)
    buf = io.BytesIO()
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    # saved from the CPU: a CUDA-trained module's storages made the documented torch.load
    # fail on a machine without a GPU (session-45 CUDA review)
    torch.save(model if device.type == "cpu" else copy.deepcopy(model).cpu(), buf)
    atomic_write_bytes(keep(out / "encoder.pt"), buf.getvalue())
    buf = io.BytesIO()
    np.save(buf, h)
    atomic_write_bytes(keep(out / "embedding.npy"), buf.getvalue())
    plot_history(model, keep(out / "history.png"))
    slowness = getattr(model, "slowness", None)      # None without held-out pairs
    if slowness is not None:
        plot_slowness(model, keep(out / "slowness.png"))
    from .store import provenance
    report = dict(
        data=str(args.data), pairs=int(len(data["x"])), width=int(data["x"].shape[1]),
        # what the fit was made from and with (absent before session 49: a trial found no
        # version, no checksum and only the path as typed)
        data_path=str(Path(args.data).resolve()), data_sha256=_sha256(Path(args.data)),
        z=args.z, provenance=provenance(),
        resumed_from=getattr(model, "resumed_from", None),
        # the settings in effect with the defaults resolved, and the read-out policy used
        settings=dict(getattr(model, "settings", None) or {},
                      readout=getattr(model, "readout", None)),
        # which arrays made the pairs (absent before session 45)
        layout=data["layout"],
        embedding_width=int(h.shape[1]),
        arguments={k: (str(v) if k == "checkpoint" else v) for k, v in kwargs.items()
                   if k not in ("checkpoint", "progress")},
        heldout_objective=_num(getattr(model, "heldout_objective", None)),
        criterion=getattr(model, "criterion", None), selected=getattr(model, "selected", None),
        ordered=getattr(model, "ordered", None),
        heavy_tailed=getattr(model, "heavy_tailed", None),
        heavy_tailed_note=("read-out candidates left out of the choice: an output of theirs "
                           "had excess kurtosis above 50 and above twice the linear map's on "
                           "the pairs (a rare spike the held-out pairs cannot rate; "
                           "pycheck.train.KURTOSIS_MAX)"
                           if getattr(model, "heavy_tailed", None) else None),
        # each read-out candidate's held-out value, the linear map's among them, and each
        # SIGReg weight's fit: how the returned one compares (absent before session 44)
        candidates=({k: _num(v) for k, v in model.candidates.items()}
                    if isinstance(getattr(model, "candidates", None), dict) else None),
        # the label-free check that the embedding kept what the linear map finds slow
        # (pycheck.train.slow_direction_coverage; flagged: directions it may have dropped)
        coverage=getattr(model, "coverage", None),
        lam_fits=({str(k): {kk: _num(vv) if kk != "selected" else vv for kk, vv in v.items()}
                   for k, v in model.lam_fits.items()}
                  if isinstance(getattr(model, "lam_fits", None), dict) else None),
        best_step=getattr(model, "best_step", None), lam=_num(getattr(model, "lam", None)),
        slowness=None if slowness is None else [_num(v) for v in slowness],
        slowness_se=None if slowness is None else [_num(v) for v in model.slowness_se],
        train_seconds=round(float(model.train_seconds), 2), hint=sample_hint(model, total_steps),
        width_hint=(None if slowness is None or args.dim_out else
                    width_hint(slowness, model.slowness_se)),
        # the same seed gives the same bits only at the same thread count (session 43)
        threads=torch.get_num_threads(), device=str(device),
        history=[[int(s), {k: _num(v) for k, v in p.items()}] for s, p in model.history],
        files=["encoder.pt", "embedding.npy", "history.png"]
        + (["slowness.png"] if slowness is not None else [])
        + ["fit.json"])
    if data["z"] is not None:
        report["r2_xz"] = r2_xz["data"]
        report["r2_hz"] = linear_r2(h, data["z"])
        # per latent too: a pooled 0.63 hid 0.985, 0.914 and 0.000, a dropped latent
        # (session 51, a user's trial on an anisotropic world)
        report["r2_hz_per_latent"] = _per_latent_r2(h, data["z"])
        report["r2_note"] = ("linear_r2 on every row (a random half fits the affine map, the "
                             "other half scores it; r2_hz_per_latent: each column of z on "
                             "the same halves); the encoder was trained on these rows' "
                             "pairs without z; test_* values: the same on --test")
    if test is not None:
        ht = embed(model, test["rows"])
        buf = io.BytesIO()
        np.save(buf, ht)
        atomic_write_bytes(keep(out / "test_embedding.npy"), buf.getvalue())
        report["files"].insert(2, "test_embedding.npy")
        report.update(test=str(args.test), test_pairs=int(len(test["x"])),
                      test_whitened_alignment=whitened_alignment(
                          embed(model, test["x"]), embed(model, test["x_next"])))
        if test["z"] is not None:
            report["test_r2_xz"] = r2_xz["test"]
            report["test_r2_hz"] = linear_r2(ht, test["z"])
            report["test_r2_hz_per_latent"] = _per_latent_r2(ht, test["z"])
    write_json(keep(out / "fit.json"), report)
    held = report["heldout_objective"]
    line = f"pycheck fit: {len(data['x'])} pairs, {report['train_seconds']:.0f} s"
    if held is not None:
        line += f"; held-out {report['criterion']} {held:.6g}"
        if report["selected"] is not None:      # None: the trained read-out, no choice made
            line += f" ({report['selected']})"
        lin = next((v for k, v in (report["candidates"] or {}).items()
                    if k.startswith("linear")), None)
        if lin is not None:
            line += f"; the linear map's {lin:.6g}"
    if data["z"] is not None:
        line += f"; R²(x→z) {report['r2_xz']:.5f}, R²(h→z) {report['r2_hz']:.5f}"
        line += _per_latent_said(report["r2_hz_per_latent"])
    if test is not None:
        line += f"\ntest: whitened alignment {report['test_whitened_alignment']:.6g}"
        if test["z"] is not None:
            line += (f"; R²(x→z) {report['test_r2_xz']:.5f}, "
                     f"R²(h→z) {report['test_r2_hz']:.5f}"
                     + _per_latent_said(report["test_r2_hz_per_latent"]))
    if report["hint"]:
        line += f"\nhint: {report['hint']}"
    if report["width_hint"]:
        line += f"\nhint: {report['width_hint']}"
    print(line + f"\nwrote {out}/: " + ", ".join(report["files"]), flush=True)
    return 0


#: width_hint: the first output past the gap must be this many times slower than the last
#: before it (and apart by 2 standard errors of each)
WIDTH_GAP_RATIO = 1.5


def width_hint(slowness, slowness_se) -> str | None:
    """Say to refit with ``--dim-out k`` when the leading ``k`` outputs stand clearly apart
    from the rest in slowness (``slowness[k] >= WIDTH_GAP_RATIO * slowness[k-1]`` and the two
    more than 2 standard errors each apart; the largest such ratio), else ``None``.

    Why: with more channels than latents the README (now docs/FIT.md) said to keep the leading
    outputs. A
    trial (session 47; 3 OU latents at rho 0.8 in 20 nonlinear channels, 20 000 pairs) had
    slowness 0.47-0.53 for 3 outputs against 0.82 and up, and the leading 3 reached R²(h->z)
    0.917 where a refit with dim_out=3 reached 0.975 (session 25's 12-channel world: 0.9921
    against 0.9929). The gap can also fall between latents of very different slowness, so
    the hint is conditional."""
    pairs = sorted((float(v), float(e)) for v, e in zip(slowness, slowness_se)
                   if v is not None and e is not None and math.isfinite(v) and math.isfinite(e))
    sl, se = [v for v, _ in pairs], [e for _, e in pairs]
    best = None
    for k in range(1, len(sl)):
        lo, hi = sl[k - 1], sl[k]
        if lo > 0 and hi >= WIDTH_GAP_RATIO * lo and hi - lo > 2 * (se[k - 1] + se[k]):
            if best is None or hi / lo > sl[best] / sl[best - 1]:
                best = k
    if best is None:
        return None
    many = best > 1
    return (f"the {best} slowest output{'s' * many} (slowness "
            + (f"{sl[0]:.2f}-{sl[best - 1]:.2f}) stand" if many else f"{sl[0]:.2f}) stands")
            + f" apart from the other {len(sl) - best} ({sl[best]:.2f} and up): if the world "
            f"has {best} latent{'s' * many}, refit with --dim-out {best}, which usually "
            f"recovers {'them' if many else 'it'} better than the leading output{'s' * many} of "
            "this fit (a trial: R²(h→z) "
            "0.975 against 0.917, 3 latents in 20 channels); latents of very different "
            "slowness can also make such a gap (docs/FIT.md, 'More channels than latents')")


def _per_latent_r2(h, z) -> list[float] | None:
    """``linear_r2(h, z[:, j])`` for each column of ``z`` (the same random halves as the
    pooled value's); ``None`` for a single latent (the pooled value is it)."""
    from .metrics import linear_r2
    z = np.asarray(z, dtype=np.float64).reshape(len(z), -1)
    return [linear_r2(h, z[:, [j]]) for j in range(z.shape[1])] if z.shape[1] > 1 else None


def _per_latent_said(values: list[float] | None, most: int = 8) -> str:
    """`` (per latent 0.985, 0.914, 0.000)`` for the summary line; up to ``most`` values,
    else the lowest."""
    if not values:
        return ""
    if len(values) <= most:
        return f" (per latent {', '.join(f'{v:.3f}' for v in values)})"
    j = int(np.argmin(values))
    return f" (per latent: lowest {values[j]:.3f}, latent {j}; all in fit.json)"


def sample_hint(model, steps: int) -> str | None:
    """What the held-out selection says about the number of pairs, or ``None``.

    Two signs that the stored pairs, not the steps, limit the encoder (measured:
    docs/FIT_STUDIES.md, "How many stored pairs the defaults need" and "Above the suite's
    dimensions"): the
    linear map was kept (the network did not beat it on the held-out pairs: at 24-32
    latent dimensions and 20 000 pairs, where fresh pairs reach the supervised ceiling),
    or the held-out objective was lowest in the first half of the run (the network fitted
    the pairs' noise past it: best step 599 and 449 of 3000 there, 1199 at 16 dimensions;
    2099-2999 on the suite's 2-4-dimensional worlds and 1799 at 8, where the limit is milder
    and this stays silent; ``scripts/best_step_probe.py``,
    ``results/fit_encoder/probes-s35/``)."""
    selected, best = getattr(model, "selected", None), getattr(model, "best_step", None)
    if isinstance(selected, str) and selected.startswith("linear"):
        tails = getattr(model, "heavy_tailed", None)
        # a short run: the steps are the likelier limit (at 100-200 steps the hint named
        # only the pairs; session 42)
        more = ("more pairs" if steps >= DEFAULT_STEPS else
                f"more steps (this run had {steps}; the default is {DEFAULT_STEPS}) or pairs")
        return ("the network did not beat the linear map on the held-out pairs, so the "
                "embedding is the linear map's (slow feature analysis of x); with "
                f"{more} the network may beat it" + (
                    f" ({', '.join(tails)} left out: heavy-tailed outputs, a rare spike that "
                    "the held-out pairs cannot rate)" if tails else ""))
    if best is not None and best + 1 <= steps // 2:
        # "after N steps": best_step in fit.json and the history counts from 0, so "at step
        # 900" had read against best_step 899 (session 49, a user's trial)
        said = (f"the held-out objective was lowest after {best + 1} of {steps} steps "
                f"(best_step {best})")
        if not _training_fell_past(getattr(model, "history", None) or [], best, steps):
            # the training pairs' own term rose too: not overfitting, the objective traded
            # it away (lam > 0 trades alignment for SIGReg's term); "more pairs" was wrong
            # advice there (session 51, a user's trial: lam = 0.3, 20 000 pairs)
            return (f"{said}, and the training batches' value rose past it as well: not "
                    "overfitting, so more pairs would not help (with lam > 0 the training "
                    "objective trades alignment for SIGReg's term; otherwise try more steps)")
        return (f"{said}: past it the network fitted these pairs' noise; more pairs would "
                "likely give a better encoder than more steps")
    return None


def _training_fell_past(history: list, best: int, steps: int) -> bool:
    """Did the training batches' alignment (the loss if none is recorded) fall after step
    ``best``? Median of the last quarter of the run against the median within ``steps / 20``
    of ``best`` (single-batch values are noisy). ``True`` when the history cannot tell."""
    def value(parts):
        v = parts.get("alignment", parts.get("loss"))
        return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None
    w = max(1, steps // 20)
    near = [v for s, p in history if abs(s - best) <= w and (v := value(p)) is not None]
    late = [v for s, p in history if s >= steps - steps // 4 and (v := value(p)) is not None]
    if len(near) < 2 or len(late) < 2:
        return True
    return statistics.median(late) < statistics.median(near)


def _num(v):
    """JSON-able number (non-finite as None)."""
    if v is None or isinstance(v, (str, bool)):
        return v
    v = float(v)
    return v if math.isfinite(v) else None

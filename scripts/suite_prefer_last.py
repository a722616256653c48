"""Probe (issue 11, session 20): the suite with stored pairs but the fresh-pair checkpoint
rule (the last checkpoint unless an earlier one is better by MARGIN_SE paired standard
errors, pycheck.train._select_checkpoint) instead of the minimum that fit_encoder keeps for
stored pairs. Everything else is fit_encoder's defaults, so each run trains the same bits as
the suite's "defaults" column and differs only in the checkpoint returned.

    .venv/bin/python scripts/suite_prefer_last.py --half tuning
writes results/fit_encoder/suite-prefer-last/prefer-last/ (one process: the patch lives in it).
"""
import sys

import pycheck.train as T

_train = T._train


def _train_prefer_last(*args, **kw):
    return _train(*args, **dict(kw, prefer_last=True))


T._train = _train_prefer_last
sys.path.insert(0, "scripts")
import suite  # noqa: E402

if __name__ == "__main__":
    sys.argv = [sys.argv[0], *sys.argv[1:], "--variant", "prefer-last", "--options", "{}",
                "--jobs", "1", "--out", "results/fit_encoder/suite-prefer-last"]
    sys.exit(suite.main())

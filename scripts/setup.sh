#!/usr/bin/env bash
# One-time, idempotent set-up used by both README commands (make verify / make test).
# Creates .venv, installs a CPU torch 2.13.0 (on this kind of machine a wheel on disk; a
# bare `torch` would pull a multi-GB CUDA build), the package with its test, reacher and
# cluster extras (submitit: --executor slurm and its tests), and the system libraries
# MuJoCo's off-screen EGL rendering needs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.pycheck-setup
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # Keep a torch the user already put in the venv (e.g. a CUDA build); otherwise pin.
  if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet "torch==${TORCH_VERSION:-2.13.0}"
  fi
  .venv/bin/python -m pip install --quiet -e ".[test,reacher,cluster]"
  touch "$stamp"
fi
# Off-screen rendering for the Reacher experiment (Mesa EGL). Only attempted as root on a
# Debian-like system; elsewhere install libegl1 and libgl1 yourself.
if ! ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libegl1 libgl1 >/dev/null) \
      || echo "setup: could not install libegl1/libgl1; Reacher rendering will be skipped" >&2
  else
    echo "setup: libEGL not found; install libegl1 libgl1 for the Reacher experiment" >&2
  fi
fi

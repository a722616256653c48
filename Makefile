# The two README commands. Both do all the set-up on a fresh clone (scripts/setup.sh).
.PHONY: verify test setup
setup:
	@bash scripts/setup.sh

verify: setup
	.venv/bin/pycheck verify

test: setup
	@.venv/bin/python -c "from pycheck.sigreg_cpp import prebuild; prebuild()"  # C++ kernels, once
	MUJOCO_GL=egl .venv/bin/python -m pytest -q

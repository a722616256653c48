import Lake
open Lake DSL

package «LeJEPA» where
  leanOptions := #[
    ⟨`autoImplicit, false⟩,
    ⟨`relaxedAutoImplicit, false⟩
  ]

-- Mathlib release tag `v4.29.0` (matching `leanprover/lean4:v4.29.0`, released 2026-03-27),
-- pinned by its commit.
require mathlib from git
  "https://github.com/leanprover-community/mathlib4" @ "8a178386ffc0f5fef0b77738bb5449d50efeea95"

@[default_target]
lean_lib «LeJEPA» where
  -- the library is `LeJEPA.lean` and the modules under `LeJEPA/`

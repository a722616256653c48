import Lake
open Lake DSL

package «LeJEPA» where
  leanOptions := #[
    ⟨`autoImplicit, false⟩,
    ⟨`relaxedAutoImplicit, false⟩
  ]

-- Mathlib release tag `v4.29.0` (matching `leanprover/lean4:v4.29.0`), pinned by its commit:
-- downstream `lake-manifest.json` files record `"inputRev": "v4.29.0"` with this `"rev"`.
require mathlib from git
  "https://github.com/leanprover-community/mathlib4" @ "8a178386ffc0f5fef0b77738bb5449d50efeea95"

-- The library: `LeJEPA.lean` and the modules under `LeJEPA/`.
@[default_target]
lean_lib «LeJEPA»

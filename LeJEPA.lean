/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Spectral
import LeJEPA.Defs
import LeJEPA.Axioms
import LeJEPA.Moments
import LeJEPA.Mehler
import LeJEPA.Forward
import LeJEPA.Converse
import LeJEPA.Polar
import LeJEPA.Approximate
import LeJEPA.ApproximateL2
import LeJEPA.Planning
import LeJEPA.Check
import LeJEPA.Anisotropic
import LeJEPA.FiniteSample

/-!
# LeJEPA: linear identifiability of Gaussian worlds

A Lean 4 + Mathlib formalization of Theorems 1–4 of *When Does LeJEPA Learn a World Model?*
(Klindt, LeCun, Balestriero, 2026). See `LeJEPA/README.md` for the pinned Mathlib version, the
axioms, and the Mathlib declarations the development depends on; `theorems.toml` maps each
theorem ID to its Lean declarations.
-/

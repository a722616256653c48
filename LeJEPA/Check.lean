/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Forward
import LeJEPA.Converse
import LeJEPA.Approximate
import LeJEPA.ApproximateL2
import LeJEPA.Planning

/-!
# Axiom audit

`#print axioms` for the main theorems, printed on every `lake build`. The expected output is the
three kernel axioms `propext`, `Classical.choice`, `Quot.sound`, plus, for `T1`, the axioms of
`LeJEPA/Axioms.lean` the proof uses. `Spectral` (`L1`), `Polar` (`L5`), `Converse` (`T2`),
`Approximate` (`T3`) and `Planning` (`T4`) use no axiom of this development.
-/

-- L1: the spectral core
#print axioms LeJEPA.Spectral.one_sub_mul_le_of_hasSum
#print axioms LeJEPA.Spectral.gap_of_hasSum
#print axioms LeJEPA.Spectral.hasSum_eq_one_sub_mul_iff

-- L4 and T1: the forward direction
#print axioms LeJEPA.latentGaussian_linear_moments
#print axioms LeJEPA.alignment_eq_tsum
#print axioms LeJEPA.two_mul_card_mul_le_alignment
#print axioms LeJEPA.alignment_eq_iff
#print axioms LeJEPA.isMinimizer_iff
#print axioms LeJEPA.whitened_of_map_eq

-- T2: the converse
#print axioms LeJEPA.eq_map_of_affine_map_eq
#print axioms LeJEPA.isGaussian_of_affine_map_eq
#print axioms LeJEPA.abs_div_card_le_abs_mul_sum_pow_four

-- L5: the nearest orthogonal matrix
#print axioms LeJEPA.exists_orthogonal_frobNorm_sub_le

-- T3: approximate identifiability
#print axioms LeJEPA.FiniteChaos.nonlinearEnergy_le
#print axioms LeJEPA.FiniteChaos.exists_deviation_le
-- T3 for every L² encoder (nonlinear-energy bound; uses `hasSum_chaosEnergy`, `mehler_scalarAlignment`)
#print axioms LeJEPA.nonlinearEnergyL2_le
-- T3 for every L² encoder (deviation from rotation; also uses `L5` and the moments of `γₙ`)
#print axioms LeJEPA.exists_deviationL2_le

-- T4: optimal latent-space planning
#print axioms LeJEPA.Planning.ControlProblem.value_map
#print axioms LeJEPA.Planning.ControlProblem.isOptimal_map_iff

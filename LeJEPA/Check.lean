/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Forward
import LeJEPA.Converse
import LeJEPA.Approximate
import LeJEPA.ApproximateL2
import LeJEPA.Planning
import LeJEPA.Anisotropic
import LeJEPA.FiniteSample

/-!
# Axiom audit

`#print axioms` for the main theorems, printed on every `lake build`. The expected output is the
three kernel axioms `propext`, `Classical.choice`, `Quot.sound`, plus, where a theorem depends on
them, the two axioms of `LeJEPA/Axioms.lean` (`hasSum_chaosEnergy`, `mehler_correlation`):

* no axiom of this development: `Spectral` (`L1`), `Polar` (`L5`), the moments of `γₙ` and
  `chaosEnergy_one_eq` (`Moments`), `Converse` (`T2`), `latentGaussian_map_linearIsometryEquiv`
  (`L7`), `Planning` (`T4`), `Anisotropic` (`A1`'s spectral core), `FiniteSample` (`S1`), and
  the *finite-chaos model* of `T3` (`Approximate`, where the alignment and covariance are defined
  by their chaos formulas);
* `hasSum_chaosEnergy` only: the first-chaos characterization `chaosEnergy_eq_zero_iff` (`L6`);
* both: `L4` (`mehler_scalarAlignment`; the stationarity `map_ouStep` uses none), `T1`, and `T3`
  for `L²` encoders (`ApproximateL2`).
-/

-- L1: the spectral core
#print axioms LeJEPA.Spectral.one_sub_mul_le_of_hasSum
#print axioms LeJEPA.Spectral.gap_of_hasSum
#print axioms LeJEPA.Spectral.hasSum_eq_one_sub_mul_iff

-- moments of γₙ (no axiom) and the first Wiener chaos (L6, Parseval)
#print axioms LeJEPA.latentGaussian_linear_moments
#print axioms LeJEPA.chaosEnergy_one_eq
#print axioms LeJEPA.chaosEnergy_eq_zero_iff

-- L4 and T1: the forward direction (stationarity of the OU step uses no axiom)
#print axioms LeJEPA.map_ouStep
#print axioms LeJEPA.mehler_scalarAlignment
#print axioms LeJEPA.alignment_eq_tsum
#print axioms LeJEPA.two_mul_card_mul_le_alignment
#print axioms LeJEPA.alignment_eq_iff
#print axioms LeJEPA.isMinimizer_iff
#print axioms LeJEPA.whitened_of_map_eq
#print axioms LeJEPA.isMinimizer_feasible_iff
-- L7: rotations preserve γₙ
#print axioms LeJEPA.latentGaussian_map_linearIsometryEquiv

-- T2: the converse
#print axioms LeJEPA.eq_map_of_affine_map_eq
#print axioms LeJEPA.isGaussian_of_affine_map_eq
#print axioms LeJEPA.isGaussian_of_ae_affine_map_eq
#print axioms LeJEPA.map_ne_of_not_isGaussian
#print axioms LeJEPA.abs_div_card_le_abs_mul_sum_pow_four

-- L5: the nearest orthogonal matrix
#print axioms LeJEPA.exists_orthogonal_frobNorm_sub_le

-- T3, finite-chaos model (alignment and covariance defined by their chaos formulas; no axiom)
#print axioms LeJEPA.FiniteChaos.nonlinearEnergy_le
#print axioms LeJEPA.FiniteChaos.exists_deviation_le
#print axioms LeJEPA.FiniteChaos.exists_deviation_le_of_cov_eq_one
-- T3 for every L² encoder (uses `hasSum_chaosEnergy`, `mehler_correlation`)
#print axioms LeJEPA.nonlinearEnergyL2_le
#print axioms LeJEPA.exists_deviationL2_le
#print axioms LeJEPA.exists_deviationL2_le_of_cov_eq_one

-- T4: optimal latent-space planning
#print axioms LeJEPA.Planning.ControlProblem.value_conj
#print axioms LeJEPA.Planning.ControlProblem.isOptimal_conj_iff
#print axioms LeJEPA.Planning.value_translation_map
#print axioms LeJEPA.Planning.isOptimal_translation_map_iff
#print axioms LeJEPA.Planning.ControlProblem.isOptimal_conj_iff'
#print axioms LeJEPA.Planning.value_translation_perm
#print axioms LeJEPA.Planning.ControlProblem.value_le_seqCost
#print axioms LeJEPA.Planning.ControlProblem.exists_seqCost_eq_value
#print axioms LeJEPA.Planning.ControlProblem.isOptimal_iff_seqCost_eq_value
#print axioms LeJEPA.Planning.ControlProblem.latentProblem_conjugate
#print axioms LeJEPA.Planning.ControlProblem.value_latentProblem
#print axioms LeJEPA.Planning.ControlProblem.latentProblemOf_conjugate
#print axioms LeJEPA.Planning.ControlProblem.value_latentProblemOf
#print axioms LeJEPA.Planning.transpose_mulVec_mulVec
#print axioms LeJEPA.Planning.ControlProblem.value_latentProblem_matrix
#print axioms LeJEPA.Planning.ControlProblem.infValue_eq_value
#print axioms LeJEPA.Planning.ControlProblem.infValue_conj
#print axioms LeJEPA.Planning.toEuclideanLin_transpose_apply
#print axioms LeJEPA.Planning.ControlProblem.value_latentProblem_euclidean

-- A1: the finite spectral core and the comparison of the anisotropic world (no axiom)
#print axioms LeJEPA.Anisotropic.gap_le_sub_sum
#print axioms LeJEPA.Anisotropic.eq_zero_of_sum_eq
#print axioms LeJEPA.Anisotropic.prod_pow_le_sq
#print axioms LeJEPA.Anisotropic.harmonic_lt_rotation_iff
#print axioms LeJEPA.Anisotropic.sub_sq_eq_mul_one_sub

-- S1: the finite-sample cost comparison (no axiom)
#print axioms LeJEPA.FiniteSample.cost_le_cost

/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Defs
import Mathlib.Analysis.Matrix.Spectrum
import Mathlib.Analysis.InnerProductSpace.PiL2
import Mathlib.LinearAlgebra.Matrix.Trace
import Mathlib.LinearAlgebra.UnitaryGroup

/-!
# The nearest orthogonal matrix (manifest ID `L5`)

Every real square matrix `W` has an orthogonal `Q` with `‖W - Q‖_F ≤ ‖W Wᵀ - I‖_F`
(`LeJEPA.exists_orthogonal_frobNorm_sub_le`). This was an axiom of the development; it is proved
here from Mathlib's spectral theorem for Hermitian matrices and the extension of an orthonormal
family to an orthonormal basis. No axiom of this development is used.

## Proof

The polar decomposition `W = (W Wᵀ)^{1/2} Q` needs care when `W` is singular; the proof avoids it
by diagonalizing `W Wᵀ` and completing the normalized rows by hand.

1. `W Wᵀ` is symmetric, so the spectral theorem gives an orthogonal `U` and a vector `d` with
   `Uᵀ (W Wᵀ) U = diag d` (`Polar.exists_orthogonal_diagonalize`).
2. `M = Uᵀ W` then has `M Mᵀ = diag d`: its rows `mᵢ` are pairwise orthogonal with
   `‖mᵢ‖² = dᵢ ≥ 0`.
3. The rows with `dᵢ ≠ 0`, divided by `√dᵢ`, form an orthonormal family; extend it to an
   orthonormal basis `(bᵢ)` of `ℝⁿ` indexed by the same `Fin n`
   (`Orthonormal.exists_orthonormalBasis_extension_of_card_eq`). The matrix `Q'` with rows `bᵢ`
   is orthogonal.
4. Row by row, `‖mᵢ - bᵢ‖² = (√dᵢ - 1)² ≤ (dᵢ - 1)²` (for `dᵢ = 0` both sides are `1`, as
   `mᵢ = 0` and `‖bᵢ‖ = 1`), so `‖M - Q'‖_F² ≤ ∑ᵢ (dᵢ - 1)² ≤ ‖diag d - I‖_F²`
   (`Polar.exists_frobSq_sub_le_of_mul_transpose_eq_diagonal`).
5. The Frobenius norm is invariant under multiplication by orthogonal matrices
   (`Polar.frobSq_mul_left`, `Polar.frobSq_mul_right`, through `‖X‖_F² = tr (X Xᵀ)`), and
   `W - U Q' = U (M - Q')`, `W Wᵀ - I = U (diag d - I) Uᵀ`; so `Q = U Q'` works.

The scalar step is `(s - 1)² ≤ (s² - 1)²` for `s ≥ 0` (`Polar.one_sub_sq_mul_sq_le`), since
`(s² - 1)² - (s - 1)² = (s - 1)² (s² + 2 s)`.

## Implementation notes

The spectral theorem is used in its `Unitary.conjStarAlgAut` form (Mathlib since 2025-11), with
the older `star U * A * U = diagonal _` form as a fallback. The normalized rows are built as
vectors of `EuclideanSpace ℝ (Fin n)` with `WithLp.toLp`; inner products of such vectors are
computed once (`Polar.euclidean_inner_eq_sum_mul`) from `PiLp.inner_apply`.

## References

* K. Fan, A. J. Hoffman, *Some metric inequalities in the space of matrices*,
  Proc. Amer. Math. Soc. 6 (1955), 111–116.
* N. J. Higham, *Functions of Matrices: Theory and Computation*, SIAM 2008, Ch. 8.
-/

noncomputable section

open scoped Matrix InnerProductSpace

namespace LeJEPA

namespace Polar

variable {n : ℕ}

/-! ### Frobenius norm and orthogonal matrices -/

/-- `‖X‖_F² = tr (X Xᵀ)`. -/
theorem frobSq_eq_trace (X : Matrix (Fin n) (Fin n) ℝ) : frobSq X = Matrix.trace (X * Xᵀ) := by
  first
  | (rw [frobSq, Matrix.trace]
     refine Finset.sum_congr rfl fun i _ => ?_
     rw [Matrix.diag_apply, Matrix.mul_apply]
     refine Finset.sum_congr rfl fun k _ => ?_
     rw [Matrix.transpose_apply, sq])
  | simp only [frobSq, Matrix.trace, Matrix.diag_apply, Matrix.mul_apply, Matrix.transpose_apply,
      sq]

/-- Left multiplication by an orthogonal matrix preserves the Frobenius norm. -/
theorem frobSq_mul_left {U : Matrix (Fin n) (Fin n) ℝ} (hU : Uᵀ * U = 1)
    (X : Matrix (Fin n) (Fin n) ℝ) : frobSq (U * X) = frobSq X := by
  rw [frobSq_eq_trace, frobSq_eq_trace, Matrix.transpose_mul]
  calc Matrix.trace (U * X * (Xᵀ * Uᵀ)) = Matrix.trace (U * (X * Xᵀ * Uᵀ)) := by
        simp only [Matrix.mul_assoc]
    _ = Matrix.trace (X * Xᵀ * Uᵀ * U) := Matrix.trace_mul_comm _ _
    _ = Matrix.trace (X * Xᵀ) := by rw [Matrix.mul_assoc, hU, Matrix.mul_one]

/-- Right multiplication by an orthogonal matrix preserves the Frobenius norm. -/
theorem frobSq_mul_right {V : Matrix (Fin n) (Fin n) ℝ} (hV : V * Vᵀ = 1)
    (X : Matrix (Fin n) (Fin n) ℝ) : frobSq (X * V) = frobSq X := by
  have h : X * V * (X * V)ᵀ = X * Xᵀ := by
    rw [Matrix.transpose_mul]
    calc X * V * (Vᵀ * Xᵀ) = X * (V * Vᵀ) * Xᵀ := by simp only [Matrix.mul_assoc]
      _ = X * Xᵀ := by rw [hV, Matrix.mul_one]
  rw [frobSq_eq_trace, frobSq_eq_trace, h]

/-- A real matrix with `Q Qᵀ = 1` is in the orthogonal group. -/
theorem mem_orthogonalGroup_of_mul_transpose_eq_one {Q : Matrix (Fin n) (Fin n) ℝ}
    (hQ : Q * Qᵀ = 1) : Q ∈ Matrix.orthogonalGroup (Fin n) ℝ := by
  rw [Matrix.mem_orthogonalGroup_iff]
  -- `A * Aᵀ = 1` in recent Mathlib, `A * star A = 1` in older versions
  first
  | exact hQ
  | simpa [Matrix.star_eq_conjTranspose] using hQ

/-! ### The spectral theorem for `W Wᵀ` -/

/-- `W Wᵀ` is symmetric (Hermitian over `ℝ`). -/
theorem isHermitian_mul_transpose_self (W : Matrix (Fin n) (Fin n) ℝ) :
    (W * Wᵀ).IsHermitian := by
  have h := Matrix.isHermitian_mul_conjTranspose_self W
  rwa [Matrix.conjTranspose_eq_transpose_of_trivial] at h

/-- **Spectral theorem for real symmetric matrices**, in the form used here: an orthogonal `U`
(`U Uᵀ = Uᵀ U = 1`) with `Uᵀ A U` diagonal. `U` is Mathlib's `eigenvectorUnitary`, `d` the
eigenvalues. -/
theorem exists_orthogonal_diagonalize {A : Matrix (Fin n) (Fin n) ℝ} (hA : A.IsHermitian) :
    ∃ U : Matrix (Fin n) (Fin n) ℝ, U * Uᵀ = 1 ∧ Uᵀ * U = 1 ∧
      ∃ d : Fin n → ℝ, Uᵀ * A * U = Matrix.diagonal d := by
  have hstar : ∀ M : Matrix (Fin n) (Fin n) ℝ, star M = Mᵀ := fun M => by
    rw [Matrix.star_eq_conjTranspose, Matrix.conjTranspose_eq_transpose_of_trivial]
  have hdiag : star (hA.eigenvectorUnitary : Matrix (Fin n) (Fin n) ℝ) * A *
      (hA.eigenvectorUnitary : Matrix (Fin n) (Fin n) ℝ) =
      Matrix.diagonal (RCLike.ofReal ∘ hA.eigenvalues : Fin n → ℝ) := by
    -- `conjStarAlgAut` form since 2025-11; `star_mul_self_mul_eq_diagonal` before
    -- (`conjStarAlgAut_star_apply` reads `(star u : R) * x * u`; if that elaborates as
    -- `↑(star u)` rather than `star ↑u`, `exact` still closes it by unfolding, and the second
    -- alternative rewrites it with `Unitary.coe_star`)
    first
    | (have h := hA.conjStarAlgAut_star_eigenvectorUnitary
       rw [Unitary.conjStarAlgAut_star_apply] at h
       exact h)
    | (have h := hA.conjStarAlgAut_star_eigenvectorUnitary
       rw [Unitary.conjStarAlgAut_star_apply, Unitary.coe_star] at h
       exact h)
    | (have h := hA.conjStarAlgAut_star_eigenvectorUnitary
       simp only [Unitary.conjStarAlgAut_apply, Unitary.coe_star, star_star] at h
       exact h)
    | exact hA.star_mul_self_mul_eq_diagonal
  refine ⟨(hA.eigenvectorUnitary : Matrix (Fin n) (Fin n) ℝ), ?_, ?_,
    RCLike.ofReal ∘ hA.eigenvalues, ?_⟩
  · rw [← hstar]
    exact Matrix.mem_unitaryGroup_iff.mp hA.eigenvectorUnitary.2
  · rw [← hstar]
    exact Matrix.mem_unitaryGroup_iff'.mp hA.eigenvectorUnitary.2
  · rw [← hstar]
    exact hdiag

/-! ### Inner products in `EuclideanSpace ℝ (Fin n)` -/

/-- The inner product of two reals is their product. -/
theorem scalar_inner_eq_mul (s t : ℝ) : ⟪s, t⟫_ℝ = s * t := by
  first
  | (have h1 : ⟪(1 : ℝ), (1 : ℝ)⟫_ℝ = 1 := by
       rw [real_inner_self_eq_norm_sq, norm_one, one_pow]
     calc ⟪s, t⟫_ℝ = ⟪s • (1 : ℝ), t • (1 : ℝ)⟫_ℝ := by
           rw [smul_eq_mul, smul_eq_mul, mul_one, mul_one]
       _ = s * (t * ⟪(1 : ℝ), (1 : ℝ)⟫_ℝ) := by
           rw [real_inner_smul_left, real_inner_smul_right]
       _ = s * t := by rw [h1, mul_one])
  -- by definition `⟪s, t⟫ = t * conj s` (recent Mathlib) or `conj s * t` (older)
  | exact mul_comm t s
  | rfl
  | (rw [RCLike.inner_apply, conj_trivial]; ring)
  | simp [mul_comm]

/-- `⟪x, y⟫ = ∑ₖ xₖ yₖ` in `EuclideanSpace ℝ (Fin n)`. -/
theorem euclidean_inner_eq_sum_mul (x y : EuclideanSpace ℝ (Fin n)) :
    ⟪x, y⟫_ℝ = ∑ k, x k * y k := by
  have h : ⟪x, y⟫_ℝ = ∑ k, ⟪x k, y k⟫_ℝ := by
    first
    | exact PiLp.inner_apply x y
    | rfl
    | simp only [PiLp.inner_apply]
  rw [h]
  exact Finset.sum_congr rfl fun k _ => scalar_inner_eq_mul (x k) (y k)

/-! ### The diagonal case -/

/-- The scalar step: for `s ≥ 0` and `t = s⁻¹`, `(1 - t)² s² = (s - 1)² ≤ (s² - 1)²`. -/
theorem one_sub_sq_mul_sq_le {s t : ℝ} (hs : 0 ≤ s) (hst : s * t = 1) :
    (1 - t) ^ 2 * s ^ 2 ≤ (s ^ 2 - 1) ^ 2 := by
  have h1 : (1 - t) ^ 2 * s ^ 2 = (s - 1) ^ 2 := by
    calc (1 - t) ^ 2 * s ^ 2 = (s - s * t) ^ 2 := by ring
      _ = (s - 1) ^ 2 := by rw [hst]
  have h2 : (s ^ 2 - 1) ^ 2 - (s - 1) ^ 2 = (s - 1) ^ 2 * (s ^ 2 + 2 * s) := by ring
  have h3 : 0 ≤ (s - 1) ^ 2 * (s ^ 2 + 2 * s) :=
    mul_nonneg (sq_nonneg _) (add_nonneg (sq_nonneg s) (mul_nonneg (by norm_num) hs))
  rw [h1, ← sub_nonneg, h2]
  exact h3

/-- **The diagonal case.** If `M Mᵀ = diag d` (the rows of `M` are pairwise orthogonal), then
some orthogonal `Q'` has `‖M - Q'‖_F² ≤ ‖diag d - I‖_F²`. -/
theorem exists_frobSq_sub_le_of_mul_transpose_eq_diagonal {M : Matrix (Fin n) (Fin n) ℝ}
    {d : Fin n → ℝ} (hMd : M * Mᵀ = Matrix.diagonal d) :
    ∃ Q' : Matrix (Fin n) (Fin n) ℝ, Q' * Q'ᵀ = 1 ∧
      frobSq (M - Q') ≤ frobSq (Matrix.diagonal d - 1) := by
  -- the entries of `M Mᵀ = diag d`
  have hrow : ∀ i j, ∑ k, M i k * M j k = if i = j then d i else 0 := by
    intro i j
    have h := congrFun (congrFun hMd i) j
    rw [Matrix.mul_apply, Matrix.diagonal_apply] at h
    simp only [Matrix.transpose_apply] at h
    exact h
  have hd0 : ∀ i, 0 ≤ d i := by
    intro i
    have h := hrow i i
    rw [if_pos rfl] at h
    rw [← h]
    exact Finset.sum_nonneg fun k _ => mul_self_nonneg (M i k)
  -- the normalized rows `mᵢ / √dᵢ`, as vectors of `ℝⁿ`
  obtain ⟨v, hv⟩ : ∃ v : Fin n → EuclideanSpace ℝ (Fin n),
      ∀ i k, v i k = (Real.sqrt (d i))⁻¹ * M i k := by
    first
    | exact ⟨fun i => WithLp.toLp 2 (fun k => (Real.sqrt (d i))⁻¹ * M i k), fun i k => rfl⟩
    | exact ⟨fun i => (WithLp.equiv 2 (Fin n → ℝ)).symm (fun k => (Real.sqrt (d i))⁻¹ * M i k),
        fun i k => rfl⟩
  obtain ⟨S, hS⟩ : ∃ S : Set (Fin n), ∀ i, i ∈ S ↔ d i ≠ 0 := ⟨{i | d i ≠ 0}, fun i => Iff.rfl⟩
  have hvv : ∀ i j, d i ≠ 0 → ⟪v i, v j⟫_ℝ = if i = j then 1 else 0 := by
    intro i j hi
    have hsum : ⟪v i, v j⟫_ℝ =
        (Real.sqrt (d i))⁻¹ * (Real.sqrt (d j))⁻¹ * ∑ k, M i k * M j k := by
      rw [euclidean_inner_eq_sum_mul, Finset.mul_sum]
      refine Finset.sum_congr rfl fun k _ => ?_
      rw [hv i k, hv j k]
      ring
    rw [hsum, hrow i j]
    by_cases hij : i = j
    · rw [if_pos hij, if_pos hij, ← hij]
      have hs : Real.sqrt (d i) ≠ 0 :=
        (Real.sqrt_pos.mpr (lt_of_le_of_ne (hd0 i) (Ne.symm hi))).ne'
      calc (Real.sqrt (d i))⁻¹ * (Real.sqrt (d i))⁻¹ * d i
          = (Real.sqrt (d i))⁻¹ * (Real.sqrt (d i))⁻¹ * Real.sqrt (d i) ^ 2 := by
            rw [Real.sq_sqrt (hd0 i)]
        _ = (Real.sqrt (d i) * (Real.sqrt (d i))⁻¹) ^ 2 := by ring
        _ = 1 := by rw [mul_inv_cancel₀ hs, one_pow]
    · rw [if_neg hij, if_neg hij, mul_zero]
  -- they are orthonormal on `S = {i | dᵢ ≠ 0}` ...
  have hon : Orthonormal ℝ (fun i : S => v (i : Fin n)) := by
    rw [orthonormal_iff_ite]
    intro i j
    have h := hvv i j ((hS (i : Fin n)).mp i.2)
    by_cases hij : i = j
    · rw [if_pos hij]
      rw [if_pos (congrArg Subtype.val hij)] at h
      exact h
    · rw [if_neg hij]
      rw [if_neg (fun h' => hij (Subtype.ext h'))] at h
      exact h
  -- ... and extend to an orthonormal basis indexed by `Fin n`
  have hcard : Module.finrank ℝ (EuclideanSpace ℝ (Fin n)) = Fintype.card (Fin n) := by
    first
    | exact finrank_euclideanSpace
    | simp
  obtain ⟨b, hb⟩ : ∃ b : OrthonormalBasis (Fin n) ℝ (EuclideanSpace ℝ (Fin n)),
      ∀ i ∈ S, b i = v i := by
    -- the first form is the one Mathlib itself uses for a family `fun i : {i | …} => f i`
    -- (`InnerProductSpace.gramSchmidtOrthonormalBasis`): `(v := _)` fixes the function that
    -- `Set.restrict` must match
    first
    | exact hon.exists_orthonormalBasis_extension_of_card_eq (v := v) hcard
    | exact hon.exists_orthonormalBasis_extension_of_card_eq hcard
    | exact Orthonormal.exists_orthonormalBasis_extension_of_card_eq hcard
        (show Orthonormal ℝ (S.restrict v) from hon)
    | exact Orthonormal.exists_orthonormalBasis_extension_of_card_eq (v := v) (s := S) hcard hon
  -- the matrix with rows `bᵢ` is orthogonal
  obtain ⟨Q', hQ'⟩ : ∃ Q' : Matrix (Fin n) (Fin n) ℝ, ∀ i k, Q' i k = b i k :=
    ⟨Matrix.of fun i k => b i k, fun i k => rfl⟩
  have hbb : ∀ i j, ∑ k, b i k * b j k = if i = j then 1 else 0 := fun i j =>
    (euclidean_inner_eq_sum_mul (b i) (b j)).symm.trans (orthonormal_iff_ite.mp b.orthonormal i j)
  have hQ'orth : Q' * Q'ᵀ = 1 := by
    ext i j
    rw [Matrix.mul_apply, Matrix.one_apply]
    refine Eq.trans (Finset.sum_congr rfl fun k _ => ?_) (hbb i j)
    rw [Matrix.transpose_apply, hQ' i k, hQ' j k]
  refine ⟨Q', hQ'orth, ?_⟩
  -- row by row, `‖mᵢ - bᵢ‖² ≤ (dᵢ - 1)²`
  have hrowle : ∀ i, ∑ k, (M i k - Q' i k) ^ 2 ≤ (d i - 1) ^ 2 := by
    intro i
    by_cases hdi : d i = 0
    · -- a zero row: `mᵢ = 0` and `‖bᵢ‖ = 1`
      have hsum : ∑ k, M i k * M i k = 0 := by rw [hrow i i, if_pos rfl, hdi]
      have hM0 : ∀ k, M i k = 0 := fun k =>
        mul_self_eq_zero.mp
          ((Finset.sum_eq_zero_iff_of_nonneg fun k _ => mul_self_nonneg (M i k)).1 hsum k
            (Finset.mem_univ k))
      have h1 : ∑ k, (M i k - Q' i k) ^ 2 = ∑ k, b i k * b i k := by
        refine Finset.sum_congr rfl fun k _ => ?_
        rw [hM0 k, hQ' i k]
        ring
      rw [h1, hbb i i, if_pos rfl, hdi]
      norm_num
    · -- a nonzero row: `bᵢ = mᵢ / √dᵢ`
      have hs0 : 0 < Real.sqrt (d i) :=
        Real.sqrt_pos.mpr (lt_of_le_of_ne (hd0 i) (Ne.symm hdi))
      have hst : Real.sqrt (d i) * (Real.sqrt (d i))⁻¹ = 1 := mul_inv_cancel₀ hs0.ne'
      have hsq : Real.sqrt (d i) ^ 2 = d i := Real.sq_sqrt (hd0 i)
      have hbi : ∀ k, Q' i k = (Real.sqrt (d i))⁻¹ * M i k := by
        intro k
        rw [hQ' i k, hb i ((hS i).mpr hdi), hv i k]
      have h1 : ∑ k, (M i k - Q' i k) ^ 2 =
          (1 - (Real.sqrt (d i))⁻¹) ^ 2 * ∑ k, M i k * M i k := by
        rw [Finset.mul_sum]
        refine Finset.sum_congr rfl fun k _ => ?_
        rw [hbi k]
        ring
      rw [h1, hrow i i, if_pos rfl]
      have key := one_sub_sq_mul_sq_le (Real.sqrt_nonneg (d i)) hst
      rw [hsq] at key
      exact key
  -- the diagonal of `diag d - I`
  have hdiagle : ∑ i, (d i - 1) ^ 2 ≤ frobSq (Matrix.diagonal d - 1) := by
    rw [frobSq]
    refine Finset.sum_le_sum fun i _ => ?_
    have hk : (d i - 1) ^ 2 = (Matrix.diagonal d - 1) i i ^ 2 := by
      rw [Matrix.sub_apply, Matrix.diagonal_apply_eq, Matrix.one_apply_eq]
    rw [hk]
    first
    | exact Finset.single_le_sum (f := fun j => (Matrix.diagonal d - 1) i j ^ 2)
        (fun j _ => sq_nonneg _) (Finset.mem_univ i)
    | exact Finset.single_le_sum (fun j _ => sq_nonneg ((Matrix.diagonal d - 1) i j))
        (Finset.mem_univ i)
  calc frobSq (M - Q') = ∑ i, ∑ k, (M i k - Q' i k) ^ 2 := by
        simp only [frobSq, Matrix.sub_apply]
    _ ≤ ∑ i, (d i - 1) ^ 2 := Finset.sum_le_sum fun i _ => hrowle i
    _ ≤ frobSq (Matrix.diagonal d - 1) := hdiagle

end Polar

/-- **Nearest orthogonal matrix (L5).** Every real square matrix `W` has an orthogonal `Q` with
`‖W - Q‖_F ≤ ‖W Wᵀ - I‖_F`. (The orthogonal polar factor is such a `Q`; the proof builds one from
the spectral decomposition of `W Wᵀ`, see the module docstring.)

Fan–Hoffman, *Some metric inequalities in the space of matrices*; Higham, *Functions of
Matrices*, Ch. 8. -/
theorem exists_orthogonal_frobNorm_sub_le {n : ℕ} (W : Matrix (Fin n) (Fin n) ℝ) :
    ∃ Q ∈ Matrix.orthogonalGroup (Fin n) ℝ, frobNorm (W - Q) ≤ frobNorm (W * Wᵀ - 1) := by
  obtain ⟨U, hUU, hUtU, d, hD⟩ :=
    Polar.exists_orthogonal_diagonalize (Polar.isHermitian_mul_transpose_self W)
  -- `M = Uᵀ W` has pairwise orthogonal rows
  have hMM : Uᵀ * W * (Uᵀ * W)ᵀ = Matrix.diagonal d := by
    rw [Matrix.transpose_mul, Matrix.transpose_transpose, ← hD]
    simp only [Matrix.mul_assoc]
  obtain ⟨Q', hQ'orth, hle⟩ := Polar.exists_frobSq_sub_le_of_mul_transpose_eq_diagonal hMM
  have hQQ : U * Q' * (U * Q')ᵀ = 1 := by
    rw [Matrix.transpose_mul, Matrix.mul_assoc, ← Matrix.mul_assoc Q', hQ'orth, Matrix.one_mul,
      hUU]
  refine ⟨U * Q', Polar.mem_orthogonalGroup_of_mul_transpose_eq_one hQQ, ?_⟩
  -- transport both sides by `U`
  have hWQ : W - U * Q' = U * (Uᵀ * W - Q') := by
    rw [Matrix.mul_sub, ← Matrix.mul_assoc, hUU, Matrix.one_mul]
  have hWW : W * Wᵀ - 1 = U * (Matrix.diagonal d - 1) * Uᵀ := by
    have h1 : U * Matrix.diagonal d * Uᵀ = W * Wᵀ := by
      rw [← hD]
      calc U * (Uᵀ * (W * Wᵀ) * U) * Uᵀ = U * Uᵀ * (W * Wᵀ) * (U * Uᵀ) := by
            simp only [Matrix.mul_assoc]
        _ = W * Wᵀ := by rw [hUU, Matrix.one_mul, Matrix.mul_one]
    rw [Matrix.mul_sub, Matrix.sub_mul, Matrix.mul_one, hUU, h1]
  have hUt : Uᵀ * Uᵀᵀ = 1 := by
    rw [Matrix.transpose_transpose]
    exact hUtU
  have h1 : frobSq (W - U * Q') = frobSq (Uᵀ * W - Q') := by
    rw [hWQ, Polar.frobSq_mul_left hUtU]
  have h2 : frobSq (W * Wᵀ - 1) = frobSq (Matrix.diagonal d - 1) := by
    rw [hWW, Polar.frobSq_mul_right hUt, Polar.frobSq_mul_left hUtU]
  calc frobNorm (W - U * Q') = Real.sqrt (frobSq (Uᵀ * W - Q')) := by
        show Real.sqrt (frobSq (W - U * Q')) = Real.sqrt (frobSq (Uᵀ * W - Q'))
        rw [h1]
    _ ≤ Real.sqrt (frobSq (Matrix.diagonal d - 1)) := Real.sqrt_le_sqrt hle
    _ = frobNorm (W * Wᵀ - 1) := by
        show Real.sqrt (frobSq (Matrix.diagonal d - 1)) = Real.sqrt (frobSq (W * Wᵀ - 1))
        rw [h2]

end LeJEPA

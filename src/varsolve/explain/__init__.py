"""Explanations a person can follow: why no resolution exists.

Strategies feed structured causes in and get an :class:`~varsolve.resolution.Explanation` (a
derivation whose steps are data) back: :func:`.conflict.explain_conflict` for the final conflict
of a backtracking search, :func:`.unsat.explain_core` for a minimal unsatisfiable set of
constraint groups. Both are written with the same sentences (:mod:`.sentences`,
:mod:`.unusable`), naming the packages, versions, variant labels and properties involved.
"""

"""Coverage-guided fuzzing (atheris) of the readers and normalisers; see docs/fuzzing.md.

``fuzz.targets`` holds the targets as plain functions (no atheris import), so
the regression inputs in ``fuzz/regressions/`` replay under pytest anywhere;
``python -m fuzz`` runs them under atheris, one process per target.
"""

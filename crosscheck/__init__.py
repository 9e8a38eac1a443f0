"""A second, independent extract generator (from ``../shared/extracts/SPEC.md`` alone) and a report of what Hearth makes of it.

``python -m crosscheck --households 3000 --seed 1 --out DIR``; see ``docs/crosscheck.md``.
"""

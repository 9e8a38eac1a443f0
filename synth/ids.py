"""Resident ID numbers (GB 11643-1999), built vectorised with numpy/polars."""

from __future__ import annotations

import numpy as np
import polars as pl

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_CHARS = np.array(list("10X98765432"))


def check_chars(first17: np.ndarray) -> np.ndarray:
    """Check character for each 17-digit number given as int64 (ISO 7064 MOD 11-2)."""
    digits = np.empty((len(first17), 17), dtype=np.int64)
    rest = first17.astype(np.int64).copy()
    for pos in range(16, -1, -1):
        digits[:, pos] = rest % 10
        rest //= 10
    return CHECK_CHARS[(digits @ WEIGHTS) % 11]


def check_char(first17: str) -> str:
    """Scalar version, for tests and one-off corrections."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS.tolist(), strict=True))
    return "10X98765432"[total % 11]


def is_valid(id_number: str) -> bool:
    return len(id_number) == 18 and id_number[:17].isdigit() and check_char(id_number[:17]) == id_number[17]


def build_ids(county: np.ndarray, birth: np.ndarray, male: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """18-character IDs, unique over the batch.

    county: int64 6-digit codes; birth: datetime64[D]; male: bool.
    The 3-digit sequence is odd for men and even for women.
    """
    n = len(county)
    ymd = _yyyymmdd(birth)
    prefix = county.astype(np.int64) * 10**8 + ymd
    seq = _sequence(male, rng)
    first17 = prefix * 1000 + seq
    # Resolve the rare collisions (same county, birth date and sequence).
    for _ in range(50):
        _, first_idx, counts = np.unique(first17, return_index=True, return_counts=True)
        dup = np.ones(n, dtype=bool)
        dup[first_idx] = False
        if not dup.any():
            break
        seq[dup] = _sequence(male[dup], rng)
        first17 = prefix * 1000 + seq
    checks = check_chars(first17)
    return (pl.Series(first17).cast(pl.String) + pl.Series(checks)).to_numpy()


def _sequence(male: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    base = rng.integers(1, 500, size=len(male)) * 2  # even, 2..998
    return np.where(male, base - 1, base).astype(np.int64)


def _yyyymmdd(d: np.ndarray) -> np.ndarray:
    d = d.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = (d.astype("datetime64[M]").astype(np.int64) % 12) + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y * 10000 + m * 100 + day

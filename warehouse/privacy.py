"""Pseudonymous keys and masked display values, as DuckDB SQL expressions.

Keys are HMAC-SHA256 computed inside DuckDB (set-wise, no Python loop per
row): HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)). The two padded keys
are bound parameters (``$hmac_ipad``, ``$hmac_opad``); the key never appears in
SQL text nor in the warehouse. Only a fingerprint of it (``key_id``) is kept,
so that one can tell that keys changed between two builds.

The hex digest is re-spelled with the letters a–p (0–9 -> g–p) and prefixed:
a key then never contains a run of digits that could look like a phone or an
ID number to a privacy scan, and reads as what it is (``p_``, ``h_``, ``r_``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

KEY_ENV = "HEARTH_PSEUDONYM_KEY"
#: Used only in explicit demo mode; a warning says so and ops.run records it.
DEMO_KEY = "hearth-demo-key: synthetic data only, never for real households"
KEY_HEX_CHARS = 16


class MissingPseudonymKey(RuntimeError):
    """The pseudonym key is not configured and demo mode was not asked for."""


@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes
    demo: bool = False

    def __repr__(self) -> str:  # never print the secret
        return f"PseudonymKey(key_id={self.key_id!r}, demo={self.demo})"

    @property
    def key_id(self) -> str:
        return hmac.new(self.secret, b"hearth key fingerprint", hashlib.sha256).hexdigest()[:12]

    def sql_params(self) -> dict[str, bytes]:
        """The bound parameters every key expression needs."""
        block = self.secret if len(self.secret) <= 64 else hashlib.sha256(self.secret).digest()
        block = block.ljust(64, b"\0")
        return {
            "hmac_ipad": bytes(b ^ 0x36 for b in block),
            "hmac_opad": bytes(b ^ 0x5C for b in block),
        }

    def hexdigest(self, message: str) -> str:
        """Reference implementation in Python (tests compare the SQL against it)."""
        return hmac.new(self.secret, message.encode(), hashlib.sha256).hexdigest()


def load_key(demo: bool = False, environ: Mapping[str, str] | None = None) -> PseudonymKey:
    """The key from ``HEARTH_PSEUDONYM_KEY``; in demo mode only, a fixed demo key."""
    environ = os.environ if environ is None else environ
    value = environ.get(KEY_ENV, "").strip()
    if value:
        return PseudonymKey(value.encode(), demo=False)
    if demo:
        warnings.warn(f"{KEY_ENV} is not set: using the fixed DEMO pseudonym key. Keys are not secret; "
                      "use this for synthetic data only.", stacklevel=2)
        return PseudonymKey(DEMO_KEY.encode(), demo=True)
    raise MissingPseudonymKey(
        f"{KEY_ENV} is not set. Analysts see pseudonymous keys computed with this secret; set it to a long "
        f"random value kept outside the repository (e.g. `export {KEY_ENV}=$(openssl rand -hex 32)`), "
        "or build in demo mode (demo=True / --demo) for synthetic data."
    )


def hmac_hex_sql(message_sql: str) -> str:
    """SQL for the HMAC-SHA256 hex digest of a VARCHAR expression (parameters from ``sql_params``)."""
    return f"sha256($hmac_opad || unhex(sha256($hmac_ipad || encode({message_sql}))))"


def key_sql(message_sql: str, prefix: str) -> str:
    """SQL for a pseudonymous key: ``<prefix>_`` + 16 letters a–p from the HMAC digest.

    ``prefix`` is one of the code-owned literals p, h, r.
    """
    assert prefix in {"p", "h", "r"}
    digest = hmac_hex_sql(message_sql)
    return f"('{prefix}_' || translate(left({digest}, {KEY_HEX_CHARS}), '0123456789', 'ghijklmnop'))"


def key_py(key: PseudonymKey, message: str, prefix: str) -> str:
    """The same key computed in Python, for tests and look-ups by hand."""
    digest = key.hexdigest(message)[:KEY_HEX_CHARS]
    return f"{prefix}_" + digest.translate(str.maketrans("0123456789", "ghijklmnop"))


def normalised_id_sql(column_sql: str) -> str:
    return f"nullif(upper(trim({column_sql})), '')"


def person_message_sql(id_number_sql: str, person_id_sql: str) -> str:
    """What a person key hashes: the normalised ID number, else ``person:<person_id>``."""
    return f"coalesce({normalised_id_sql(id_number_sql)}, 'person:' || {person_id_sql})"


# ---------------------------------------------------------------------------
# masking (display values for analysts)

def mask_id_sql(col: str) -> str:
    """``5299**********123X``: first 4 and last 4 kept; too short to mask safely -> all stars."""
    return (f"CASE WHEN {col} IS NULL THEN NULL WHEN length({col}) < 12 THEN repeat('*', length({col})) "
            f"ELSE left({col}, 4) || repeat('*', length({col}) - 8) || right({col}, 4) END")


def mask_name_sql(col: str) -> str:
    """``王*芳``: first and last character kept, middle masked; 2 characters -> ``王*``."""
    return (f"CASE WHEN {col} IS NULL THEN NULL WHEN length({col}) <= 1 THEN '*' "
            f"WHEN length({col}) = 2 THEN left({col}, 1) || '*' "
            f"ELSE left({col}, 1) || repeat('*', length({col}) - 2) || right({col}, 1) END")


def mask_phone_sql(col: str) -> str:
    """``138****5678``: first 3 and last 4 kept."""
    return (f"CASE WHEN {col} IS NULL THEN NULL WHEN length({col}) < 11 THEN repeat('*', length({col})) "
            f"ELSE left({col}, 3) || repeat('*', length({col}) - 7) || right({col}, 4) END")


def mask_address_sql(col: str) -> str:
    """Addresses are not shown: only whether one is known."""
    return f"({col} IS NOT NULL)"


# ---------------------------------------------------------------------------
# the privacy scan

#: Patterns a value of an analyst view must never match (DuckDB regex, RE2). A run of
#: digits inside a hexadecimal token (a file ID, a hash: ``a947189815739665``) is not
#: an identifier, so the run must not touch a hex digit on either side; a raw ID in
#: text (``身份证110101199003077777``, ``id: 110101900307777``) still matches.
LEAK_PATTERNS = {
    "id_number": r"(^|[^0-9A-Fa-f])[0-9]{17}[0-9Xx]([^0-9A-Fa-f]|$)",
    "legacy_id_number": r"(^|[^0-9A-Fa-f])[0-9]{15}([^0-9A-Fa-f]|$)",
    "phone": r"(^|[^0-9A-Fa-f])1[3-9][0-9]{9}([^0-9A-Fa-f]|$)",
}
NAME_SHAPE = r"^[\x{3400}-\x{9fff}·]{2,6}$"


@dataclass(frozen=True)
class Leak:
    view: str
    column: str
    kind: str
    example: str


#: Column types that cannot hold 11 digits or a name: not scanned.
_UNSCANNED_TYPES = ("BOOLEAN", "DATE", "TIMESTAMP", "TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT",
                    "UINTEGER", "INTERVAL")
_DIGIT_RUN = r"[0-9]{11}"


def scan_analyst_views(conn, schema: str = "analyst", max_examples: int = 1) -> list[Leak]:
    """Read every column of every view in ``schema``; report values that look like identifiers.

    One pass per view flags the columns with a run of 11 digits or a value equal
    to a raw name known to ``restricted`` (a masked name has a ``*`` and never
    matches); flagged columns are then examined pattern by pattern.
    """
    views = conn.sql("SELECT view_name FROM duckdb_views() WHERE schema_name = $s AND NOT internal ORDER BY 1",
                     params={"s": schema}).fetchall()
    has_names = bool(conn.sql(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'restricted' AND table_name = 'person_identity'"
    ).fetchall()[0][0])
    names = ("SELECT DISTINCT name FROM (" + " UNION ALL ".join(_name_sources()) + ") "
             "WHERE name IS NOT NULL AND length(name) >= 2") if has_names else "SELECT NULL::VARCHAR AS name WHERE false"
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _known_names AS {names}")
    leaks: list[Leak] = []
    for (view,) in views:
        cols = conn.sql("SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = $s AND table_name = $t "
                        "ORDER BY column_index", params={"s": schema, "t": view}).fetchall()
        types = dict(cols)
        cols = [c for c, t in cols if t not in _UNSCANNED_TYPES]
        if not cols:
            continue
        qualified = f'{schema}."{view}"'
        # a double prints with up to 17 significant digits: compare it at cents, as money is kept
        values = {c: (f'CAST(CAST("{c}" AS DECIMAL(38, 2)) AS VARCHAR)' if types[c] in ("DOUBLE", "FLOAT")
                      else f'CAST("{c}" AS VARCHAR)') for c in cols}
        flags = ", ".join(f"{_digit_flag(c, types[c], v)} AS \"d:{c}\", {_name_flag(types[c], v)} AS \"n:{c}\""
                          for c, v in values.items())
        row = conn.sql(f"SELECT {flags} FROM {qualified}",
                       params={"digits": _DIGIT_RUN} if "$digits" in flags else {}).fetchall()[0]
        digit_flagged = [c for i, c in enumerate(cols) if row[2 * i]]
        if digit_flagged and max_examples == 1:
            # one pass over the view for every flagged column and pattern (a view may be a wide join)
            checks = [(c, kind) for c in digit_flagged for kind in LEAK_PATTERNS]
            params = {f"p_{kind}": pattern for kind, pattern in LEAK_PATTERNS.items()}
            found = conn.sql("SELECT " + ", ".join(f"min({values[c]}) FILTER (WHERE regexp_matches({values[c]}, $p_{kind}))"
                                                   for c, kind in checks) + f" FROM {qualified}", params=params).fetchall()[0]
            leaks += [Leak(view, c, kind, _redact(example)) for (c, kind), example in zip(checks, found)
                      if example is not None]
            digit_flagged = []
        for i, column in enumerate(cols):
            value = values[column]
            if column in digit_flagged:
                for kind, pattern in LEAK_PATTERNS.items():
                    found = conn.sql(f"SELECT {value} FROM {qualified} WHERE regexp_matches({value}, $p) "
                                     f"LIMIT {max_examples}", params={"p": pattern}).fetchall()
                    leaks += [Leak(view, column, kind, _redact(r[0])) for r in found]
            if row[2 * i + 1]:
                found = conn.sql(f"SELECT v FROM (SELECT DISTINCT {value} AS v FROM {qualified}) "
                                 f"WHERE regexp_matches(v, $p) AND v IN (SELECT name FROM _known_names) "
                                 f"LIMIT {max_examples}", params={"p": NAME_SHAPE}).fetchall()
                leaks += [Leak(view, column, "name", _redact(r[0])) for r in found]
    return leaks


#: Numbers whose text (at cents) can hold a run of 11 digits are those of at least 11 integer digits.
_NUMERIC_TYPES = ("DOUBLE", "FLOAT", "BIGINT", "UBIGINT", "HUGEINT", "UHUGEINT")


def _digit_flag(column: str, dtype: str, value_sql: str) -> str:
    """Whether any value of the column may hold a run of 11 digits; cheap tests before the regex."""
    if dtype in _NUMERIC_TYPES or dtype.startswith("DECIMAL"):
        return f'bool_or(abs("{column}") >= 1e10)'
    return f"bool_or(length({value_sql}) >= 11 AND regexp_matches({value_sql}, $digits))"


def _name_flag(dtype: str, value_sql: str) -> str:
    """Whether any value equals a known raw name: only a plain text value can (a list or JSON prints brackets)."""
    if dtype != "VARCHAR":
        return "false"
    return f"bool_or({value_sql} IN (SELECT name FROM _known_names))"


def _name_sources() -> list[str]:
    from warehouse.ddl import Kind, fact_layout, FACT_TABLES

    sources = ["SELECT name FROM restricted.person_identity"]
    for department, table in FACT_TABLES.items():
        layout = fact_layout(department)
        for name in layout.identity_fields:
            if layout.specs[name].kind is Kind.NAME:
                sources.append(f'SELECT "{name}" AS name FROM restricted.{table}_identity')
    return sources


def _redact(value: str) -> str:
    """Report where a leak is without repeating it in logs."""
    text = str(value)
    return text[:3] + "…" if len(text) > 3 else "…"

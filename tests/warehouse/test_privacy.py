"""Pseudonymous keys, masking, and the privacy scan of the analyst views."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from wh_factory import World
from warehouse import privacy

ID = "52260119800101123X"


def person_world() -> World:
    w = World()
    w.person("P1", "H1", name="王小芳", id_number=ID, phone="13812345678", birth_date=date(1980, 1, 1))
    w.person("P2", "H1", name="李伟", id_number=None, phone="13912345678")
    w.add("civil_affairs", date(2024, 6, 30), "C1", "P1", "H1", name="王小芳", id_number=ID, phone="13812345678",
          per_capita_income=7000.0, address="某县某村1号")
    w.add("education", date(2024, 6, 30), "G" + ID, "P2", "H1", name="李伟", status="辍学", birth_date=date(2012, 1, 1))
    w.add("health", date(2024, 6, 30), "M1", "P1", "H1", name="王小芳", insured="已参保",
          chronic_condition="糖尿病")
    return w


def test_hmac_in_sql_equals_python_hmac():
    key = privacy.PseudonymKey(b"k" * 100)  # longer than a block: hashed first, as HMAC says
    conn = duckdb.connect()
    got = conn.sql(f"SELECT {privacy.hmac_hex_sql('$m')}", params=key.sql_params() | {"m": ID}).fetchall()[0][0]
    assert got == key.hexdigest(ID)
    got = conn.sql(f"SELECT {privacy.key_sql('$m', 'p')}", params=key.sql_params() | {"m": ID}).fetchall()[0][0]
    assert got == privacy.key_py(key, ID, "p")
    assert got.startswith("p_") and not any(ch.isdigit() for ch in got[2:])


def test_person_key_is_the_keyed_hash_of_the_id_number_else_the_person_id(build):
    key = privacy.PseudonymKey(b"one key")
    _, conn = build(person_world(), key=key)
    keys = dict(conn.sql("SELECT person_id, person_key FROM core.person").fetchall())
    assert keys["P1"] == privacy.key_py(key, ID, "p")
    assert keys["P2"] == privacy.key_py(key, "person:P2", "p")


def test_changing_the_key_changes_every_key(build):
    _, a = build(person_world(), name="a", key=privacy.PseudonymKey(b"key A"))
    _, b = build(person_world(), name="b", key=privacy.PseudonymKey(b"key B"))
    for query in ("SELECT person_key FROM core.person ORDER BY person_id",
                  "SELECT household_key FROM core.household ORDER BY household_id",
                  "SELECT record_key FROM core.record_link ORDER BY department, record_id"):
        ka, kb = a.sql(query).fetchall(), b.sql(query).fetchall()
        assert len(ka) == len(kb) > 0 and not set(ka) & set(kb)
    assert a.sql("SELECT pseudonym_key_id FROM ops.run").fetchall() != b.sql("SELECT pseudonym_key_id FROM ops.run").fetchall()


def test_missing_key_is_a_clear_error_unless_demo():
    with pytest.raises(privacy.MissingPseudonymKey, match="HEARTH_PSEUDONYM_KEY"):
        privacy.load_key(environ={})
    with pytest.warns(UserWarning, match="DEMO"):
        demo = privacy.load_key(demo=True, environ={})
    assert demo.demo
    assert privacy.load_key(environ={"HEARTH_PSEUDONYM_KEY": "s3cret"}).secret == b"s3cret"
    assert "s3cret" not in repr(privacy.load_key(environ={"HEARTH_PSEUDONYM_KEY": "s3cret"}))


def test_build_without_key_fails_before_writing(tmp_path, monkeypatch):
    from warehouse.build import RunInfo, build_warehouse
    monkeypatch.delenv("HEARTH_PSEUDONYM_KEY", raising=False)
    with pytest.raises(privacy.MissingPseudonymKey):
        build_warehouse(person_world().inputs(), tmp_path / "wh.duckdb", RunInfo("r"))
    assert not (tmp_path / "wh.duckdb").exists()


@pytest.mark.parametrize("value, masked", [
    (ID, "5226**********123X"), ("王小芳", None), ("13812345678", None), (None, None)])
def test_masks(value, masked):
    conn = duckdb.connect()
    row = conn.sql(f"SELECT {privacy.mask_id_sql('$v')}, {privacy.mask_name_sql('$v')}, {privacy.mask_phone_sql('$v')}",
                   params={"v": value}).fetchall()[0]
    if value == ID:
        assert row[0] == masked
    if value is None:
        assert row == (None, None, None)


def test_name_and_phone_masks():
    conn = duckdb.connect()
    name = lambda v: conn.sql(f"SELECT {privacy.mask_name_sql('$v')}", params={"v": v}).fetchall()[0][0]  # noqa: E731
    assert name("王小芳") == "王*芳" and name("李伟") == "李*" and name("欧阳小芳") == "欧**芳" and name("买买提·艾力") == "买****力"
    phone = conn.sql(f"SELECT {privacy.mask_phone_sql('$v')}", params={"v": "13812345678"}).fetchall()[0][0]
    assert phone == "138****5678"


def test_analyst_views_pass_the_scan_and_show_masked_values_only(build):
    result, conn = build(person_world())
    assert result.ok, result.failed()
    assert privacy.scan_analyst_views(conn) == []
    members = conn.sql("SELECT name_masked, id_number_masked, phone_masked FROM analyst.household_member "
                       "ORDER BY name_masked").fetchall()
    assert members == [("李*", None, "139****5678"), ("王*芳", "5226**********123X", "138****5678")]
    # no internal IDs or diagnoses in any analyst view
    cols = {c for (c,) in conn.sql("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'analyst'").fetchall()}
    assert not cols & {"record_id", "person_id", "household_id", "id_number", "name", "phone", "address",
                       "chronic_condition"}
    # the raw values are in restricted
    assert conn.sql("SELECT chronic_condition FROM restricted.health_coverage_identity").fetchall() == [("糖尿病",)]
    assert conn.sql("SELECT has_chronic_condition FROM analyst.health_coverage").fetchall() == [(True,)]


def test_the_scan_catches_leaky_views(build, tmp_path):
    result, conn = build(person_world())
    conn.close()
    conn = duckdb.connect(str(result.path))
    conn.execute("CREATE VIEW analyst.leaky_id AS SELECT id_number AS x FROM restricted.person_identity")
    conn.execute("CREATE VIEW analyst.leaky_phone AS SELECT 'call ' || phone AS x FROM restricted.person_identity")
    conn.execute("CREATE VIEW analyst.leaky_name AS SELECT name AS x FROM restricted.person_identity")
    conn.execute("CREATE VIEW analyst.leaky_record AS SELECT record_id AS x FROM core.education_enrolment")
    conn.execute("CREATE VIEW analyst.leaky_number AS SELECT CAST(13812345678 AS BIGINT) AS x")
    conn.execute("CREATE VIEW analyst.leaky_text AS SELECT '身份证110101900307777' AS x")
    # digit runs inside hex tokens (file IDs, hashes) are not identifiers
    conn.execute("CREATE VIEW analyst.file_ids AS SELECT * FROM (VALUES ('a947189815739665'), "
                 "('13812345678abcdef'), ('f110101199003077777e')) AS t(x)")
    leaks = {(l.view, l.kind) for l in privacy.scan_analyst_views(conn)}
    conn.close()
    assert {("leaky_id", "id_number"), ("leaky_phone", "phone"), ("leaky_name", "name"),
            ("leaky_record", "id_number"), ("leaky_number", "phone"), ("leaky_text", "legacy_id_number")} <= leaks
    assert {v for v, _ in leaks} == {"leaky_id", "leaky_phone", "leaky_name", "leaky_record", "leaky_number",
                                     "leaky_text"}
    assert all(ID not in l.example for l in privacy.scan_analyst_views(duckdb.connect(str(result.path), read_only=True)))

"""Privacy duties checked on a real run: permissions, the key, metadata, report."""

import re
import stat

import dagster as dg

ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
PHONE_LIKE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_warehouse_report_and_state_are_owner_and_group_only(first_run):
    settings, outcome = first_run
    assert outcome.success
    assert _mode(settings.warehouse) & 0o007 == 0
    reports = list(settings.reports.glob("*.html"))
    assert reports and all(_mode(r) & 0o007 == 0 for r in reports)
    for path in settings.state.rglob("*.parquet"):
        assert _mode(path) & 0o007 == 0, path


def test_the_key_is_never_written_anywhere(first_run, with_key):
    settings, outcome = first_run
    secret = with_key.encode()
    files = [settings.warehouse, *settings.reports.glob("*.html"), *settings.state.rglob("*")]
    for path in files:
        if path.is_file():
            assert secret not in path.read_bytes(), path
    for event in outcome.result.all_events:
        assert with_key not in str(event), event.event_type_value


def test_metadata_and_report_carry_no_raw_identifiers(first_run):
    settings, outcome = first_run
    texts = []
    for event in outcome.result.all_events:
        if event.event_type_value in ("ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION"):
            texts.append(str(event.event_specific_data))
    texts += [r.read_text(encoding="utf-8") for r in settings.reports.glob("*.html")]
    for text in texts:
        assert not ID_LIKE.search(text), ID_LIKE.search(text).group(0)
        assert not PHONE_LIKE.search(text), PHONE_LIKE.search(text).group(0)


def test_pseudonymous_keys_change_with_the_key(first_run, tmp_path, monkeypatch):
    import shutil

    import duckdb

    from pipelines.run import run_pipeline

    settings, _ = first_run
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        before = set(r[0] for r in conn.sql("select person_key from analyst.household_member").fetchall())
    other = settings.model_copy(update={"data_dir": tmp_path / "data", "state_dir": None, "warehouse_path": None,
                                        "reports_dir": None})
    monkeypatch.setenv("HEARTH_PSEUDONYM_KEY", "a-different-secret-0000")
    assert run_pipeline(other).success
    with duckdb.connect(str(other.warehouse), read_only=True) as conn:
        after = set(r[0] for r in conn.sql("select person_key from analyst.household_member").fetchall())
    assert before and after and not (before & after)

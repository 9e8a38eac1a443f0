from __future__ import annotations

import os
from datetime import date, datetime, timezone

from sources.landing import file_key, parse_file_name, scan_landing

QUIET = 60.0


def set_mtime(path, when: datetime) -> None:
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


def test_names_give_county_and_date():
    assert parse_file_name("529901_20260105.xlsx") == ("529901", date(2026, 1, 5))
    assert parse_file_name("529901_20260105_更正.csv") == ("529901", date(2026, 1, 5))
    assert parse_file_name("低保名单.xlsx") == (None, None)
    assert parse_file_name("529901_20261345.csv") == (None, None)


def test_skips_reports_hidden_part_and_done_markers(landing):
    folder = landing / "education"
    (folder / "_reports").mkdir()
    for name in ("_notes.csv", ".~lock.a.xlsx#", "a.csv.part", "b.csv.done", "b.csv"):
        (folder / name).write_text("x")
    scan = scan_landing(landing, now=1e9)
    assert [f.file_name for f in scan.ready + scan.waiting] == ["b.csv"]


def test_half_written_file_waits_for_quiet_period(landing):
    path = landing / "health" / "529901_20260105.csv"
    path.write_text("姓名,身份证号\n")
    scan = scan_landing(landing, {}, now=1000.0, quiet_seconds=QUIET)
    assert scan.ready == [] and [f.file_name for f in scan.waiting] == ["529901_20260105.csv"]

    with path.open("a") as still_writing:
        still_writing.write("王芳,52990119800101002X\n")
    scan = scan_landing(landing, scan.observations, now=1000.0 + QUIET, quiet_seconds=QUIET)
    assert scan.ready == []  # it changed: the quiet period starts again

    scan = scan_landing(landing, scan.observations, now=1000.0 + QUIET + 30, quiet_seconds=QUIET)
    assert scan.ready == []
    scan = scan_landing(landing, scan.observations, now=1000.0 + 2 * QUIET, quiet_seconds=QUIET)
    [ready] = scan.ready
    assert (ready.department, ready.county_from_name, ready.extract_date) == ("health", "529901", date(2026, 1, 5))
    assert ready.version == f"{ready.mtime_ns}-{ready.size}"


def test_done_marker_makes_ready_at_once(landing):
    path = landing / "water" / "a.csv"
    path.write_text("户主姓名,调查编号\n")
    (landing / "water" / "a.csv.done").write_text("")
    assert [f.file_name for f in scan_landing(landing, {}, now=0.0).ready] == ["a.csv"]


def test_empty_file_is_never_ready_quickly_but_eventually_reported(landing):
    (landing / "water" / "empty.csv").write_bytes(b"")
    scan = scan_landing(landing, {}, now=0.0, quiet_seconds=QUIET, empty_grace_seconds=600)
    scan = scan_landing(landing, scan.observations, now=QUIET * 2, quiet_seconds=QUIET, empty_grace_seconds=600)
    assert scan.ready == []
    scan = scan_landing(landing, scan.observations, now=600, quiet_seconds=QUIET, empty_grace_seconds=600)
    assert [f.file_name for f in scan.ready] == ["empty.csv"]


def test_date_from_mtime_in_shanghai(landing):
    path = landing / "housing" / "房屋鉴定.xlsx"
    path.write_bytes(b"x")
    set_mtime(path, datetime(2026, 1, 4, 17, 30, tzinfo=timezone.utc))  # 01:30 on the 5th in Shanghai
    [found] = scan_landing(landing, {}, now=0.0).waiting
    assert found.extract_date == date(2026, 1, 5) and found.county_from_name is None


def test_symlink_out_of_landing_refused(landing, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("姓名,身份证号\n")
    (landing / "education" / "link.csv").symlink_to(outside)
    inside = landing / "education" / "real.csv"
    inside.write_text("姓名,身份证号\n")
    (landing / "education" / "alias.csv").symlink_to(inside)
    scan = scan_landing(landing, {}, now=0.0)
    assert [r.path.name for r in scan.refused] == ["link.csv"]
    assert sorted(f.file_name for f in scan.waiting) == ["alias.csv", "real.csv"]


def test_vanished_files_drop_out_of_observations(landing):
    path = landing / "education" / "a.csv"
    path.write_text("x")
    scan = scan_landing(landing, {}, now=0.0)
    path.unlink()
    assert scan_landing(landing, scan.observations, now=1.0).observations == {}


def test_keys_are_safe_partition_keys():
    key = file_key("civil_affairs", "低保 名单[1],v|2.xlsx")
    assert not set("|,[] ") & set(key)
    assert key.startswith("civil_affairs/")
    assert file_key("education", "529901_20260105.xlsx") == "education/529901_20260105.xlsx"
    assert file_key("education", "a b.csv") != file_key("education", "a_b.csv")

import datetime as dt

import polars as pl

from entity_resolution.household.best_evidence import best_evidence
from entity_resolution.household.mentions import build_mentions
from household_frames import frame, make_id

D1, D2, D3 = dt.date(2025, 11, 5), dt.date(2025, 12, 5), dt.date(2026, 1, 5)
GOOD = make_id("529901", dt.date(1968, 4, 12), 51)


def test_damaged_id_in_latest_snapshot_does_not_erase_the_good_one():
    frames = {
        "health": pl.concat([
            frame("health", D1, [{"record_id": "H1", "name": "王建国", "id_number": GOOD, "phone": "13912345678"}]),
            frame("health", D2, [{"record_id": "H1", "name": "王建国", "id_number": GOOD, "phone": None}]),
        ], how="diagonal_relaxed"),
        # the latest civil-affairs extract went through Excel: the ID lost its tail
        "civil_affairs": frame("civil_affairs", D3, [
            {"record_id": "C1", "name": "王建国", "id_number": None, "phone": None, "village_code": "529901100201"},
        ]).with_columns(id_number_status=pl.lit("excel_damaged")),
        "water": frame("water", D3, [{"record_id": "W1", "head_name": "王建囯", "phone": "13800000000"}]),
    }
    mentions = build_mentions(frames).with_columns(person_id=pl.lit("P1"))
    person = best_evidence(mentions).row(0, named=True)
    assert person["id_number"] == GOOD and person["id_status"] == "valid"
    assert person["birth_date"] == dt.date(1968, 4, 12)
    assert person["gender"] == "男"
    # blank phones and a placeholder do not hide the real one
    assert person["phone"] == "13912345678"
    assert person["name"] == "王建国"
    assert person["village_code"] == "529901100201"
    assert person["n_records"] == 3
    assert (person["first_seen"], person["last_seen"]) == (D1, D3)


def test_bad_check_digit_stands_in_only_when_no_valid_id():
    bad = GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1")
    frames = {"health": pl.concat([
        frame("health", D1, [{"record_id": "H1", "name": "李四", "id_number": bad, "id_number_status": "bad_check_digit"}]),
        frame("health", D2, [{"record_id": "H2", "name": "张三", "id_number": bad, "id_number_status": "bad_check_digit"},
                             {"record_id": "H3", "name": "张三", "id_number": GOOD}]),
    ], how="diagonal_relaxed")}
    mentions = build_mentions(frames).with_columns(person_id=pl.when(pl.col("name") == "李四").then(pl.lit("A")).otherwise(pl.lit("B")))
    people = {r["person_id"]: r for r in best_evidence(mentions).iter_rows(named=True)}
    assert (people["A"]["id_number"], people["A"]["id_status"]) == (bad, "bad_check_digit")
    assert (people["B"]["id_number"], people["B"]["id_status"]) == (GOOD, "valid")

from pathlib import Path

import polars as pl

from schemas.normalise import run, villages
from schemas.normalise.villages import AMBIGUOUS, NOT_FOUND, load_gazetteer, resolve_address, village_from_address

GAZETTEER = load_gazetteer()


def code_of(township: str, village: str) -> str:
    return next(v.code for v in GAZETTEER.villages if v.township == township and v.village == village)


def test_abbreviated_and_full_addresses():
    code = code_of("湾湾镇", "营坝村")
    for address in ("营坝村三组", "营坝村3组", "湾湾镇营坝村", "贵州省云岭州青石县湾湾镇营坝村3组", "青石县营坝村"):
        assert village_from_address(address, None) == code, address


def test_unknown_village():
    assert village_from_address("火星村一组", None) == NOT_FOUND


def small_gazetteer(tmp_path: Path) -> villages.Gazetteer:
    path = tmp_path / "villages.csv"
    path.write_text(
        "village_code,province,city,county,township,village\n"
        "529901100200,贵州省,云岭州,青石县,湾湾镇,营坝村\n"
        "529901101200,贵州省,云岭州,青石县,岭冲镇,营坝村\n"
        "529902100200,贵州省,云岭州,长岭县,溪坝镇,营坝村\n"
        "529902100201,贵州省,云岭州,长岭县,溪坝镇,新营坝村\n", encoding="utf-8")
    return villages.load_gazetteer.__wrapped__(path)


def test_repeated_village_names_need_township_or_county(tmp_path):
    gazetteer = small_gazetteer(tmp_path)
    assert resolve_address("营坝村三组", None, gazetteer) == AMBIGUOUS
    assert resolve_address("湾湾镇营坝村三组", None, gazetteer) == "529901100200"
    assert resolve_address("长岭县营坝村", None, gazetteer) == "529902100200"
    # the file's county breaks the tie between 青石县 and 长岭县 but not within 青石县
    assert resolve_address("营坝村", "529902", gazetteer) == "529902100200"
    assert resolve_address("营坝村", "529901", gazetteer) == AMBIGUOUS
    # a longer name is not mistaken for the shorter one it contains
    assert resolve_address("新营坝村2组", None, gazetteer) == "529902100201"
    # a township written in the address must agree
    assert resolve_address("岭冲镇新营坝村", None, gazetteer) == NOT_FOUND


def test_codes_given_damaged_or_derived():
    valid = code_of("湾湾镇", "营坝村")
    frame = pl.DataFrame({
        "code": [valid, f"{valid}.0", "5.29901E+11", "529901999999", None, None, "abc", None],
        "address": ["x", None, "营坝村三组", "营坝村", "营坝村三组", "火星村", None, None],
    })
    out = run(frame, villages.normalise("code", "address", "529901"), keep_temporaries=True)
    assert out["code"].to_list() == [valid] * 5 + [None] * 3
    assert out["code_source"].to_list() == ["given", "given", "address", "address", "address", None, None, None]
    assert out["code__flags"].to_list() == [
        [], [], ["code:excel_damaged"], ["code:unknown"], [], ["code:village_not_found"],
        ["code:malformed"], ["code:missing"]]

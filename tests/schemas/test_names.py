import polars as pl

from schemas.normalise import names, run


def normalise(values):
    return run(pl.DataFrame({"n": values}, schema={"n": pl.String}), names.normalise("n"))


def test_normalised_names_and_pinyin():
    out = normalise(["張 偉", "王　芳", "曾伟", "单雄信", "仇山", "尉迟恭", "买买提.艾力", "买买提•艾力",
                     "买买提・艾力", "买买提‧艾力", "ＬＩ", "  ", None])
    assert out["n"].to_list() == ["张伟", "王芳", "曾伟", "单雄信", "仇山", "尉迟恭"] + ["买买提·艾力"] * 4 + [
        "LI", None, None]
    assert out["n_pinyin"].to_list() == [
        "zhang wei", "wang fang", "zeng wei", "shan xiong xin", "qiu shan", "yu chi gong"] + [
        "mai mai ti ai li"] * 4 + ["li", None, None]


def test_surname_reading_only_for_the_first_character():
    assert names.name_pinyin("曾曾") == "zeng ceng"
    assert names.name_pinyin("查查") == "zha cha"


def test_vectorised_pinyin_matches_reference():
    sample = ["曾伟", "单雄信", "翟翔", "区志", "朴树", "覃明", "解缙", "查良镛", "王芳", "欧阳娜娜", "买买提·艾力"]
    out = normalise(sample)
    assert out["n_pinyin"].to_list() == [names.name_pinyin(n) for n in sample]


def test_blank_names():
    blank = pl.DataFrame({"n": ["·", " \u3000", "王"]}).select(names.is_blank("n")).to_series()
    assert blank.to_list() == [True, True, False]

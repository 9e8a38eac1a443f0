"""Names, places and their typical corruptions.

Surname weights follow the national frequency ranking (per cent, rounded),
with south-west names (龙 石 韦 蒙 班 岑 ...) boosted for rural Guizhou and the
surnames whose reading differs from the character's default pinyin included on
purpose (曾 单 仇 区 覃 朴 翟 解 查).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_SURNAMES = """
王7.1 李7.0 张6.7 刘5.4 陈4.5 杨3.6 黄2.2 赵2.0 吴2.4 周1.8 徐1.5 孙1.4 马1.3 朱1.2 胡1.1 郭1.1 何1.0
高1.0 林1.0 罗1.3 郑0.8 梁0.8 谢0.7 宋0.6 唐0.6 许0.6 韩0.5 冯0.5 邓0.5 曹0.5 彭0.5 曾0.5 肖0.5
田0.5 董0.4 袁0.4 潘0.4 于0.4 蒋0.4 蔡0.4 余0.4 杜0.4 叶0.4 程0.4 苏0.3 魏0.3 吕0.3 丁0.3 任0.3
沈0.3 姚0.3 卢0.3 姜0.3 崔0.3 钟0.3 谭0.3 陆0.4 汪0.3 范0.3 金0.3 石0.6 廖0.3 贾0.3 夏0.2 韦0.5
付0.2 方0.2 白0.2 邹0.2 孟0.2 熊0.3 秦0.2 邱0.2 江0.2 尹0.2 薛0.2 闫0.2 段0.2 雷0.2 侯0.2 龙0.6
史0.2 陶0.2 黎0.2 贺0.2 顾0.2 毛0.2 郝0.2 龚0.2 邵0.2 万0.2 钱0.2 严0.2 覃0.2 武0.15 戴0.15 莫0.15
孔0.1 向0.1 汤0.1 蒙0.15 班0.05 岑0.05 敖0.05 滕0.05 冉0.05 麻0.03 佘0.03 禄0.02 母0.02
单0.05 仇0.03 区0.02 朴0.02 翟0.05 解0.03 查0.03
"""


def _parse_weighted(text: str) -> tuple[list[str], np.ndarray]:
    chars, weights = [], []
    for token in text.split():
        chars.append(token[0])
        weights.append(float(token[1:]))
    w = np.asarray(weights)
    return chars, w / w.sum()


SURNAMES, SURNAME_P = _parse_weighted(_SURNAMES)

# Given-name characters, most frequent first (a Zipf weight is applied), so that
# 张伟 and 王芳 collide as often as they do in a real village.
MALE_CHARS = list("伟军勇强磊涛明刚平辉杰超斌波华飞鹏林洋龙文国建志海兵东成云德光荣发忠祥顺昌贵福金才江山松浩宇鑫俊凯帅旭阳航豪晨博轩泽正永红庆生")
FEMALE_CHARS = list("芳娜敏静丽艳娟霞燕玲秀英桂兰萍红梅琴云莉婷雪慧倩欣佳丹颖洁琳玉凤花珍春翠美娥菊琼芬蓉露瑶涵怡萱诗梦雨思妍")
MALE_FIRST = list("建国志永德光文明小海家子俊宇浩天世正学金")
FEMALE_FIRST = list("秀桂玉春小丽美晓雪梦思雨佳欣婷金红海家子")


def zipf(n: int, s: float = 1.0) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


# Transliterated minority names (Uyghur/Kazakh style) written with the `·` separator.
MINORITY_GIVEN = ["阿依古丽", "买买提", "艾力", "古丽", "热依拉", "努尔", "阿不都", "帕提古丽", "迪丽", "吐尔逊",
                  "依明", "米热", "阿迪力", "阿依努尔", "玛依拉"]
MINORITY_FATHER = ["买买提", "吐尔逊", "艾买提", "阿不都", "热合曼", "玉素甫", "托合提", "依明", "卡德尔", "司马义"]

# Extra common characters: the pool homophone typos are drawn from.
_HOMOPHONE_POOL = (
    "玮炜维卫为薇微威唯方坊芬粉莉利力立黎理礼里婧晶敬井京菁境艳彦雁岩言研颜严鹃涓隽君均钧峻骏墙蔷蕾垒"
    "韬滔桃陶铭鸣名茗钢纲岗萍苹评屏坪晖徽慧洁捷婕节潮朝彬宾滨博柏伯勃骅桦菲非霏朋蓬琳霖麟临阳扬杨旸"
    "隆珑雯闻汶健剑键智治致冬栋诚城程承澄芸运韵昀得广蓉容融中钟仲众翔湘香相舜常长畅桂富芙甫付夫符今"
    "津锦进晋俊军勇永涌咏泳刚强磊涛明平辉杰超斌波华飞鹏林洋龙文建志兵东成云德光荣忠祥顺昌贵福金芳娜"
    "敏静丽燕玲秀英兰红梅琴婷雪倩欣佳丹颖玉凤花珍春翠美娥菊琼露瑶涵怡萱诗梦雨思妍民敏闽悯旻珉宇雨语"
    "羽禹玉钰毓育煜昱浩豪皓昊好鑫新欣心馨信星兴"
)


@lru_cache(maxsize=1)
def homophones() -> dict[str, list[str]]:
    """char -> other characters with the same toneless pinyin (伟 -> 玮 炜 维 ...)."""
    from pypinyin import Style, pinyin

    pool = sorted(set(_HOMOPHONE_POOL) | set(MALE_CHARS) | set(FEMALE_CHARS) | set(MALE_FIRST) | set(FEMALE_FIRST))
    by_sound: dict[str, list[str]] = {}
    for ch in pool:
        sound = pinyin(ch, style=Style.NORMAL, heteronym=False)[0][0]
        by_sound.setdefault(sound, []).append(ch)
    out: dict[str, list[str]] = {}
    for ch in pool:
        sound = pinyin(ch, style=Style.NORMAL, heteronym=False)[0][0]
        others = [c for c in by_sound[sound] if c != ch]
        if others:
            out[ch] = others
    return out


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    return _s2t().convert(text)


CHINESE_DIGITS = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五"]
GRADE_ZH = ["", "一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "七年级", "八年级", "九年级", "高一", "高二", "高三"]

# Real Guizhou county codes outside the four reporting counties: registration
# places of people who married or moved in.
OUTSIDE_COUNTIES = ["520102", "520103", "520203", "520302", "520402", "522401", "522422", "522601", "522701",
                    "530102", "500101", "510104"]

PHONE_PLACEHOLDERS = ["00000000000", "13800000000", "11111111111", "12345678901", "无", "-", "0"]

CHRONIC = ["高血压", "糖尿病", "慢性阻塞性肺疾病", "冠心病", "脑卒中后遗症", "类风湿性关节炎", "慢性肾病", "精神障碍"]

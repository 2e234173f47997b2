"""Deterministic generators of valid Chinese identifiers and names (demo, tests, benches)."""
from __future__ import annotations

import random
from datetime import date, timedelta

from app.validators import resident_id_check_char, uscc_check_char

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国红梅鹏飞宇浩然欣怡子涵思雨佳琪梓萱晨阳嘉豪志强海燕春燕丹丹凤婷雪亮"
AREA_CODES = ["310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112", "310113"]


def resident_id(rng: random.Random, *, birth: date | None = None, male: bool | None = None,
                area: str | None = None) -> str:
    birth = birth or date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 45))
    male = rng.random() < 0.5 if male is None else male
    seq = rng.randrange(100) * 10 + rng.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
    first17 = f"{area or rng.choice(AREA_CODES)}{birth:%Y%m%d}{seq:03d}"
    return first17 + resident_id_check_char(first17)


def uscc(rng: random.Random, area: str = "310101") -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = "91" + area + "".join(rng.choice(chars) for _ in range(9))
    return first17 + uscc_check_char(first17)


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def chinese_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))

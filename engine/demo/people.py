"""Invented people: the cadres, their successors and deputies, and Xinghua's audit team leaders."""
from __future__ import annotations

import random

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
            "姜崔钟谭陆汪范金石廖贾夏韦付方邹熊孟秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ["建国", "海燕", "志强", "晓东", "立新", "春华", "国平", "文杰", "红梅", "永明", "德华", "秀英", "伟", "静",
         "军", "敏", "磊", "洋", "勇", "艳", "俊峰", "玉兰", "卫东", "金龙", "雪梅", "长江", "向阳", "振华", "建华",
         "丽娟", "志刚", "海涛", "晓明", "文斌", "桂芳", "宏伟", "亚军", "晓燕", "国庆", "明辉", "慧", "峰", "斌",
         "晶", "涛", "琳", "鹏", "宇", "玉林", "学军", "爱国", "巧云", "荣华", "家驹", "春林", "红兵", "小平", "建军",
         "国强", "云飞", "一鸣", "思远", "晓光", "美玲", "新民", "德明", "益民", "卫国", "兆丰", "为民"]
XINGHUA_TEAM_LEADERS = ("顾建平", "周海燕", "陆文斌")  # 组织部干部监督科 leads the joint audit teams
LEAVING_REASONS = ["transferred", "promoted", "rotated", "term_ended", "promoted", "transferred", "retired"]


class Names:
    """Invented, unique names: nobody holds two posts."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.used = rng, set(XINGHUA_TEAM_LEADERS)

    def __call__(self) -> str:
        while True:
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
            if name not in self.used:
                self.used.add(name)
                return name


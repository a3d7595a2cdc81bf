"""The audited units of Xinghua and Suzhou, their principal posts, and the offices that run the audits."""
from __future__ import annotations

from dataclasses import dataclass

UNIT_ACCOUNT_UNIT = "戴窑镇"  # the `unit` demo account is this town's clerk


@dataclass(frozen=True)
class Unit:
    name: str
    slug: str  # pinyin, for the unit clerk's username
    code: str  # 机关代字 of the organization department that runs the audit (兴组, 苏组, 常组 ...)

    @property
    def kind(self) -> str:
        name = self.name
        if name.endswith("街道"):
            return "street"
        if name.endswith("乡"):
            return "township"
        if name.endswith("镇"):
            return "town"
        if name.endswith("区"):
            return "district"
        if name in COUNTY_CITIES:
            return "county_city"
        return "commission" if name.endswith("委") else "office" if name.endswith("办") else "bureau"

    @property
    def level(self) -> str:
        return {"street": "town", "township": "town", "town": "town", "district": "county",
                "county_city": "county"}.get(self.kind, "municipal_dept")

    @property
    def clerk(self) -> str:
        """What the unit's clerk is called in the app."""
        if self.level == "town":
            return f"{self.name}党政办（演示）"
        if self.kind == "district":
            return f"{self.name}委办公室（演示）"
        return f"{self.name}办公室（演示）"

    @property
    def username(self) -> str:
        return "unit" if self.name == UNIT_ACCOUNT_UNIT else f"unit_{self.slug}"


COUNTY_CITIES = ("常熟市", "张家港市", "昆山市", "太仓市")
# Principal posts (正职) by kind of unit; one holder each at a time.
POSTS = {"town": ("镇党委书记", "镇长"), "township": ("乡党委书记", "乡长"),
         "street": ("街道党工委书记", "街道办事处主任"), "district": ("区委书记", "区长"),
         "county_city": ("市委书记", "市长"), "bureau": ("党组书记、局长", "局长"),
         "commission": ("党组书记、主任", "主任"), "office": ("主任",)}

# 兴化市 as of 2021: 3 streets, 22 towns, 1 township (the 2013–2019 mergers took 张郭, 李中, 茅山, 缸顾, 西鲍 ...).
XINGHUA_TOWNS = [("昭阳街道", "zhaoyang"), ("临城街道", "lincheng"), ("垛田街道", "duotian"), ("戴窑镇", "daiyao"),
                 ("合陈镇", "hechen"), ("永丰镇", "yongfeng"), ("新垛镇", "xinduo"), ("安丰镇", "anfeng"),
                 ("海南镇", "hainan"), ("钓鱼镇", "diaoyu"), ("大邹镇", "dazou"), ("沙沟镇", "shagou"),
                 ("中堡镇", "zhongbao"), ("竹泓镇", "zhuhong"), ("沈伦镇", "shenlun"), ("大垛镇", "daduo"),
                 ("荻垛镇", "diduo"), ("陶庄镇", "taozhuang"), ("昌荣镇", "changrong"), ("周庄镇", "zhouzhuang"),
                 ("陈堡镇", "chenbao"), ("戴南镇", "dainan"), ("大营镇", "daying"), ("兴东镇", "xingdong"),
                 ("千垛镇", "qianduo"), ("林湖乡", "linhu")]
XINGHUA_BOTH_POSTS = ("戴窑镇", "戴南镇", "安丰镇", "昭阳街道")  # 26 units, 30 township cadres: both posts here
# The city's departments after the 2019 reform (生态环境 is now a branch of 泰州's bureau, so not here).
XINGHUA_DEPTS = [("兴化市发改委", "xh_fgw"), ("兴化市教育局", "xh_jyj"), ("兴化市工信局", "xh_gxj"),
                 ("兴化市民政局", "xh_mzj"), ("兴化市司法局", "xh_sfj"), ("兴化市财政局", "xh_czj"),
                 ("兴化市人社局", "xh_rsj"), ("兴化市自然资源和规划局", "xh_zrzyj"), ("兴化市住建局", "xh_zjj"),
                 ("兴化市交通运输局", "xh_jtj"), ("兴化市水务局", "xh_swj"), ("兴化市农业农村局", "xh_nyncj"),
                 ("兴化市商务局", "xh_swuj"), ("兴化市文广旅局", "xh_wglj"), ("兴化市卫健委", "xh_wjw"),
                 ("兴化市退役军人事务局", "xh_tyjrj"), ("兴化市应急管理局", "xh_yjj"),
                 ("兴化市市场监管局", "xh_scjgj"), ("兴化市统计局", "xh_tjj"), ("兴化市医保局", "xh_ybj"),
                 ("兴化市城管局", "xh_cgj")]
# 苏州 市本级, as in seed 001 (市外办原主任, 市安监局局长 → 应急管理局, 相城区/吴中区 书记 and 区长,
# 市环保局局长 → 生态环境局): (unit, slug, post, leaving).
SUZHOU_CITY = [("苏州市外办", "sz_wb", "主任", True), ("苏州市应急管理局", "sz_yjj", "党组书记、局长", False),
               ("相城区", "xiangcheng", "区委书记", False), ("相城区", "xiangcheng", "区长", False),
               ("吴中区", "wuzhong", "区委书记", False), ("吴中区", "wuzhong", "区长", False),
               ("苏州市生态环境局", "sz_sthjj", "党组书记、局长", False)]
# The 41 audited by the county-level cities and districts: (机关代字, [(unit, slug)]).
SUZHOU_COUNTY = [
    ("常组", [("虞山街道", "yushan"), ("梅李镇", "meili"), ("海虞镇", "haiyu"), ("沙家浜镇", "shajiabang"),
             ("常熟市财政局", "cs_czj"), ("常熟市住建局", "cs_zjj"), ("常熟市教育局", "cs_jyj")]),
    ("张组", [("杨舍镇", "yangshe"), ("塘桥镇", "tangqiao"), ("锦丰镇", "jinfeng"), ("张家港市交通运输局", "zjg_jtj"),
             ("张家港市农业农村局", "zjg_nyncj"), ("张家港市卫健委", "zjg_wjw")]),
    ("昆组", [("巴城镇", "bacheng"), ("周市镇", "zhoushi"), ("千灯镇", "qiandeng"), ("锦溪镇", "jinxi"),
             ("昆山市商务局", "ks_swj"), ("昆山市水务局", "ks_shuiwj"), ("昆山市人社局", "ks_rsj")]),
    ("太组", [("沙溪镇", "shaxi"), ("浏河镇", "liuhe"), ("璜泾镇", "huangjing"), ("太仓市民政局", "tc_mzj"),
             ("太仓市应急管理局", "tc_yjj"), ("太仓市市场监管局", "tc_scjgj")]),
    ("吴江组", [("松陵街道", "songling"), ("盛泽镇", "shengze"), ("震泽镇", "zhenze"), ("平望镇", "pingwang"),
              ("同里镇", "tongli")]),
    ("吴中组", [("木渎镇", "mudu"), ("甪直镇", "luzhi"), ("东山镇", "dongshan"), ("长桥街道", "changqiao")]),
    ("相组", [("黄埭镇", "huangdai"), ("渭塘镇", "weitang"), ("元和街道", "yuanhe")]),
    ("姑苏组", [("平江街道", "pingjiang")]),
    ("苏高新组", [("枫桥街道", "fengqiao"), ("浒墅关镇", "xushuguan")]),
]

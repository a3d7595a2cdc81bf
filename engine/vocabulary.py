"""Chinese labels of the case facts' coded values (the forms store the English codes)."""
from __future__ import annotations

AUDIT_TYPES = {"mid_term": "届中（任中）", "leaving": "离任"}
# 评价等次: Suzhou's 情况汇总 form stores the code, Xinghua's decision table gives the name itself.
GRADE_NAMES = {"good": "好", "fairly_good": "较好", "average": "一般", "poor": "差"}
UNIT_LEVELS = {"town": "乡镇（街道）", "county": "县级市（区）", "municipal_dept": "市级机关部门"}

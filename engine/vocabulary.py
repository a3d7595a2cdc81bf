"""Chinese labels of the case facts' coded values (the forms store the English codes)."""
from __future__ import annotations

AUDIT_TYPES = {"mid_term": "届中（任中）", "leaving": "离任"}
UNIT_LEVELS = {"town": "乡镇（街道）", "county": "县级市（区）", "municipal_dept": "市级机关部门"}

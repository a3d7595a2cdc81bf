"""The joint audit (三责联审) as the demo walks it: the two processes' steps in order, the three duties, and
the findings each duty's review can turn up."""
from __future__ import annotations

XINGHUA, SUZHOU = "joint_audit_xinghua", "joint_audit_suzhou"

# (description, severity, basis) per duty; a unit has at most one of each.
FINDINGS = {
    "personnel": [("超职数配备中层干部2名", "general", "《党政领导干部选拔任用工作条例》"),
                  ("干部选拔任用未经民主推荐程序", "major", "《党政领导干部选拔任用工作条例》"),
                  ("借调人员长期未归位", "general", ""),
                  ("干部试用期满未按期考核", "general", "")],
    "establishment": [("内设机构超出“三定”规定1个", "major", "本单位“三定”规定"),
                      ("混编混岗、以事代行", "general", "《中国共产党机构编制工作条例》"),
                      ("实名制信息与实际不符", "general", "机构编制实名制管理有关规定"),
                      ("超编进人2名", "major", "《中国共产党机构编制工作条例》"),
                      ("领导职数超配1名", "major", "本单位“三定”规定")],
    "finance": [("白条入账3.2万元", "general", "《会计基础工作规范》"),
                ("公务接待超标准", "general", "《党政机关国内公务接待管理规定》"),
                ("专项资金未专款专用", "major", "《中华人民共和国预算法》"),
                ("设立账外账户核算收入", "major", "《中华人民共和国会计法》"),
                ("政府采购未按规定程序", "general", "《中华人民共和国政府采购法》")],
}
# The problem category of each finding (handlers.rectification.PROBLEM_CATEGORIES); a repeat in a later case of the
# same unit would be 屡查屡犯, and the demo's units are audited once each, so none repeats.
CATEGORIES = {"超职数配备中层干部2名": "over_quota_posts", "干部选拔任用未经民主推荐程序": "irregular_selection",
              "借调人员长期未归位": "secondment_overdue", "干部试用期满未按期考核": "probation_unassessed",
              "内设机构超出“三定”规定1个": "unauthorized_bodies", "混编混岗、以事代行": "mixed_posts",
              "实名制信息与实际不符": "real_name_mismatch", "超编进人2名": "over_establishment",
              "领导职数超配1名": "over_quota_leaders", "白条入账3.2万元": "white_slips", "公务接待超标准": "excess_reception",
              "专项资金未专款专用": "special_funds_misused", "设立账外账户核算收入": "slush_fund",
              "政府采购未按规定程序": "irregular_procurement"}
AMOUNTS = {"白条入账3.2万元": 32000, "专项资金未专款专用": 1200000, "设立账外账户核算收入": 486000}
DUTIES = ("personnel", "establishment", "finance")
DUTY_NAMES = {"personnel": "用人", "establishment": "用编", "finance": "用财"}

# The steps of each process in the order a case meets them; "reviews"/"verify" are the three parallel reviews.
SEQUENCES = {
    XINGHUA: ["issue_notice", "pre_audit_publicity", "entry_meeting", "reviews", "feedback", "consolidate",
              "report_rectification", "follow_up_visit", "issue_report"],
    SUZHOU: ["pre_audit_notice", "mobilization", "self_report", "democratic_appraisal", "individual_interviews",
             "verify", "consolidate", "feedback", "rectify", "follow_up", "acceptance"],
}
GROUPS = {"reviews": ("review_personnel", "review_establishment", "review_finance"),
          "verify": ("verify_personnel", "verify_establishment", "verify_finance")}
RECTIFY = {XINGHUA: "report_rectification", SUZHOU: "rectify"}
VISIT = {XINGHUA: "follow_up_visit", SUZHOU: "follow_up"}
SETS_DEADLINE = {XINGHUA: "consolidate", SUZHOU: "feedback"}  # the step where the rectification deadline is set
# Steps the timelines do not plan: done right after the planned step before them, as the office does them in a row
# (the countersignatures, the plan, the unit's signed confirmation, the supervision letter, the next round, lifting,
# the report's countersignatures and approval). The departments' verifications are the planned visit (VISIT).
FOLLOWING = ("countersign_notice_organization", "countersign_notice_staffing", "countersign_notice_audit",
             "implementation_plan", "confirm_feedback", "supervision_letter", "set_next_round", "lift_listing",
             "countersign_report_organization", "countersign_report_staffing", "countersign_report_audit",
             "approve_report")
VERIFIERS = ("verify_rectification_organization", "verify_rectification_staffing", "verify_rectification_audit")

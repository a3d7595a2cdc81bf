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

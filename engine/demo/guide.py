"""What to try once the demo is made: the mix of lights, the accounts, and a few commands."""
from __future__ import annotations

from sqlalchemy import func, select

from ..access import OPERATOR
from ..models import Case, Incident, User, WorkItem
from ..runtime import Engine
from .places import UNIT_ACCOUNT_UNIT


def walkthrough(engine: Engine, case_ids: list[int]) -> str:
    from ..supervision import Settings, light_counts

    now = engine.clock()
    with engine.db.reading() as session:
        lights = light_counts(session, OPERATOR, now, Settings())
        statuses = dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all())
        error_case = session.scalar(select(Incident.case_id).where(Incident.status == "open").limit(1))
        listed_case = session.scalar(select(Case.id).where(Case.listed.is_(True)).order_by(Case.id).limit(1))
        clerks = session.scalars(select(User).where(User.is_demo.is_(True), User.username.like("unit\\_%", escape="\\"))
                                 .order_by(User.username)).all()
        busy = set(session.scalars(select(WorkItem.unit).where(WorkItem.status == "ready", WorkItem.role == "unit")).all())
    campaign, campaign_id, inspections = _campaign(engine)
    with engine.db.reading() as session:
        joint = session.scalar(select(func.count()).select_from(Case).where(
            Case.process_key.in_(("joint_audit_xinghua", "joint_audit_suzhou"))))
    opening = [t for t in engine.tasks(OPERATOR) if t["step_id"] in ("issue_notice", "pre_audit_notice")]
    first_id = opening[0]["id"] if opening else 1
    shown = listed_case or (case_ids[0] if case_ids else 1)
    examples = "、".join([f"{u.username} ({u.units[0]})" for u in clerks if u.units and u.units[0] in busy][:3])
    CAMPAIGN = campaign  # noqa: N806 (the text's placeholder)
    return f"""
演示数据已就绪：三责联审 {joint} 个项目 (兴化 51 人：届中 21、离任 30, 乡镇 30、市级机关部门 21;
  苏州 48 人：市本级 7、县级市（区） 41)
  办理中 {lights.running}: 绿灯 {lights.green}、黄灯 {lights.yellow}（3 日内到期）、红灯 {lights.red}（已逾期、已督办）；
  已办结 {statuses.get('completed', 0)}；系统异常 {statuses.get('error', 0)}（项目 #{error_case}: 定时步骤失败，督办人员可重试）；
  挂牌督办 项目 #{listed_case}

演示账号（密码 demo）:
  organization 组织部干部监督科 · staffing 编办 · audit 审计局 · discipline 纪委监委 · leading_office 领导小组办公室
  supervisor 领导小组（督办：灯色、逾期、系统异常、挂牌督办） · designer 流程设计员
  三员分立：secadmin 安全管理员 /admin/users · auditadmin 安全审计员 /admin/audit · sysadmin 系统管理员 /admin/system
  unit {UNIT_ACCOUNT_UNIT}党政办：只看到本镇的待办和项目
  另有 {len(clerks)} 个单位账号（被审单位和治庸问责参加单位），各限本单位，如 {examples} …

治庸问责（{CAMPAIGN}，督查问责阶段）:
  leading_office 登录 → 治庸问责 → 活动看板 /campaigns/{campaign_id}/dashboard：6 个参加单位各阶段材料报送情况；
    省交通运输厅整改报告逾期未报（已催办、督办），省人社厅问题清单退回修改一次后通过，省卫健委整改报告退回修改中，
    已登记明查暗访 {inspections} 次；点单位名看该单位的材料、明查暗访和投诉举报
  unit_hb_jtt 省交通运输厅办公室：收件箱里逾期的“报送整改报告”，报送后看板即计入
  省高管局向下属 3 个单位部署（unit_hb_ggj 部署；leading_office_hb_ggj 省高管局治庸问责办公室审核下属单位材料）

信访举报（discipline 纪委监委登录 → 信访举报 /complaints）:
  直办、交办、转办、督办各一件；1 件答复举报人逾期（已督办）；1 件匿名件存档；举报人姓名、联系方式只有纪委看得到
  直办件查实：郑凯文 信访约谈，已记入廉政档案；交办戴窑镇的一件由 unit（戴窑镇党政办）调查核实

五式履责（任何账号 → 五式履责 /responsibility）:
  戴窑镇、兴化市财政局、安丰镇和省交通运输厅、省审计厅的年度重点任务，按季度红黄绿亮灯；戴窑镇“一卡通”专项治理已销号

命令行 (CLI):
  .venv/bin/duban tasks --as organization
  .venv/bin/duban tasks --as staffing                      # 编办看到并行的用编审查
  .venv/bin/duban tasks --as unit                          # 只有{UNIT_ACCOUNT_UNIT}的签字确认和整改报送
  .venv/bin/duban complete {first_id} --as organization --data '{{}}'  # 缺少必填项，看中文提示
  .venv/bin/duban case {shown:<38} # 挂牌督办项目的全部历史
"""


def _campaign(engine: Engine) -> tuple[str, int, int]:
    from handlers.campaign.records import Campaign, Inspection

    with engine.db.reading() as session:
        row = session.scalars(select(Campaign).where(Campaign.parent_id.is_(None)).order_by(Campaign.id)).first()
        if row is None:
            return "未建立", 0, 0
        count = session.scalar(select(func.count()).select_from(Inspection).where(Inspection.campaign_id == row.id))
        return row.name, row.id, count or 0

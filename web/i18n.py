"""Chinese first, English available: the locale comes from ?lang=, then a cookie, then zh_CN."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app, g, request
from flask_babel import Babel, format_datetime, get_locale, gettext

from engine.specs import in_language, newest_versions

LANGUAGE_COOKIE = "duban_lang"


def select_locale() -> str:
    from flask import current_app

    languages = current_app.config["DUBAN_LANGUAGES"]
    for candidate in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in languages:
            return candidate
    return languages[0]


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale

    @app.after_request
    def _remember_language(response):
        lang = request.args.get("lang")
        if lang in app.config["DUBAN_LANGUAGES"]:
            response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    @app.template_filter("local")
    def _local(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
        """UTC from the database, shown in the office's local time (Asia/Shanghai)."""
        return format_datetime(value, fmt) if value else ""

    @app.template_filter("localdate")
    def _localdate(value: datetime | None) -> str:
        return format_datetime(value, "yyyy-MM-dd") if value else ""

    app.add_template_filter(label, "label")
    app.add_template_filter(person, "person")
    app.add_template_filter(localized, "localized")
    app.add_template_filter(listing, "listing")
    app.jinja_env.globals.update(language_url=language_url, process_name=process_name, step_name=step_name,
                                 step_names=step_names, english=english)


def language_url(lang: str) -> str:
    """This page in another language, its filters and page number kept."""
    from urllib.parse import urlencode

    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", lang)]
    return f"{request.path}?{urlencode(args)}"


def person(username: str | None) -> str:
    """A user's display name instead of the username (looked up once per request); unknown names as they are."""
    from flask import current_app, g

    if not username:
        return ""
    names = g.get("_display_names")
    if names is None:
        from engine.accounts import display_names

        with current_app.extensions["duban"].db.reading() as session:
            names = g._display_names = display_names(session)
    if username in names:
        return names[username]
    return gettext("系统") if username == "system" else gettext("本机运维") if username == "cli" else username


def label(text: str | None) -> str:
    """The label of a coded value (a role, a status, a light), translated when it is one of RUNTIME_LABELS.

    Anything else comes back unchanged as plain text, which the template escapes: a unit or title typed by a
    user is never looked up as a msgid (Jinja's `_()` would mark it safe and %-format it).
    """
    if text is None:
        return ""
    return gettext(text) if text in KNOWN_LABELS else str(text)


# --- the designer's words: process, step and form texts from the catalogue, `*_en` on English pages ---------
def english() -> bool:
    return str(get_locale()) == "en"


_ENGLISH_SEPARATORS = {"、": ", ", "；": "; "}


def listing(items: Any, separator: str = "、") -> str:
    """Items joined in the page's language: 甲、乙 (or 甲；乙) in Chinese, "a, b" (or "a; b") in English."""
    return (_ENGLISH_SEPARATORS.get(separator, separator) if english() else separator).join(str(i) for i in items)


def english_diagram_asked() -> bool:
    """Whether a diagram is fetched for an English page: by its URL (?lang=en) alone, not the cookie, so the
    browser's cached Chinese and English diagrams (different URLs) never stand in for each other."""
    return request.args.get("lang") == "en"


def localized(node: Any, key: str = "title", fallback: Any = "") -> str:
    """A form or catalogue node's text (`title`, `description`, `name`, `instructions`) in the page's language."""
    return in_language(node, key, str(get_locale())) or str(fallback)


def _catalogues(process_key: str, catalogue: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Where English names are looked up: the case's own version first, then the process's newest version
    (read once per request), which names the steps of versions deployed before they had English names."""
    newest = g.get("_newest_catalogues")
    if newest is None:
        duban = current_app.extensions["duban"]
        with duban.db.reading() as session:
            newest = g._newest_catalogues = {key: duban.versions.get(session, version_id).catalogue
                                             for key, version_id in newest_versions(session).items()}
    return [c for c in (catalogue, newest.get(process_key)) if c]


def process_name(process_key: str, fallback: str, catalogue: dict[str, Any] | None = None) -> str:
    """A process's name in the page's language; the Chinese name as stored otherwise."""
    if not english():
        return fallback
    return next((c["name_en"] for c in _catalogues(process_key, catalogue) if c.get("name_en")), fallback)


def step_name(process_key: str, step_id: str | None, fallback: str, catalogue: dict[str, Any] | None = None) -> str:
    """A step's name (any named element: user or service task, start event) in the page's language; work items
    and events store the Chinese name, so the English one comes from the catalogue by process and step id."""
    if not english() or not step_id:
        return fallback
    return next((c["names_en"][step_id] for c in _catalogues(process_key, catalogue)
                 if (c.get("names_en") or {}).get(step_id)), fallback)


def step_instructions(process_key: str, step_id: str | None, fallback: str,
                      catalogue: dict[str, Any] | None = None) -> str:
    """A user task's instructions in the page's language."""
    if not english() or not step_id:
        return fallback
    steps = [((c.get("steps") or {}).get(step_id) or {}) for c in _catalogues(process_key, catalogue)]
    return next((s["instructions_en"] for s in steps if s.get("instructions_en")), fallback)


def step_names(process_key: str, names: list[str]) -> list[str]:
    """Steps known only by their Chinese names (a case's current steps column), each in the page's language."""
    if not english():
        return list(names)
    english_by_name: dict[str, str] = {}
    for catalogue in _catalogues(process_key, None):
        english_by_name.update({zh: catalogue["names_en"][sid] for sid, zh in (catalogue.get("names") or {}).items()
                                if (catalogue.get("names_en") or {}).get(sid)})
    return [english_by_name.get(name, name) for name in names]


def N_(text: str) -> str:
    """Marks a msgid for extraction where the text is looked up at run time (labels of coded values)."""
    return text


# Labels that reach templates as data (`|label`): listed here so `make translations` keeps them, and so
# `label` knows which texts are ours to translate.
RUNTIME_LABELS = [
    N_("可办理"), N_("我签收的"), N_("用户名或密码错误"), N_("请先登录"),
    N_("请求无效"), N_("无权访问"), N_("页面不存在"), N_("不支持的请求方法"), N_("数据已被他人更新"),
    N_("上传的文件过大"), N_("请求过于频繁"), N_("服务器内部错误"), N_("页面已过期或缺少安全令牌，请刷新后重试"),
    N_("组织部"), N_("编办"), N_("审计局"), N_("纪委监委"), N_("领导小组办公室"), N_("被审单位"), N_("基层单位"), N_("领导小组"),
    N_("流程设计员"), N_("办理中"), N_("已办结"), N_("系统异常"), N_("已暂停"), N_("已终止"), N_("届中（任中）"), N_("届中"),
    N_("离任"), N_("乡镇（街道）"), N_("县级市（区）"), N_("市级机关部门"), N_("重大"), N_("一般"), N_("整改中"),
    N_("已销号"), N_("未整改到位"), N_("主要负责人"), N_("分管负责人"), N_("用人"), N_("用编"), N_("用财"),
    N_("暂停办理"), N_("恢复办理"), N_("终止项目"), N_("重新执行异常环节"), N_("红灯"), N_("黄灯"), N_("绿灯"),
    N_("0–7 天"), N_("8–30 天"), N_("31–90 天"), N_("90 天以上"),
    # 五式履责 (handlers/key_tasks.py SUBJECTS, STATUSES, REPORT_STATUSES)
    N_("党委（党组）主体责任"), N_("主要负责人“第一责任人”责任"), N_("班子成员“一岗双责”责任"), N_("纪委（纪检组）监督责任"),
    N_("推进中"), N_("销号审核中"), N_("待报送书面报告"), N_("书面报告退回修改"), N_("书面报告已报送"), N_("书面报告已审核"),
    N_("当面汇报已安排"), N_("已当面汇报"),
    # 三员分立 and the audit log (engine/roles.py ADMIN_ROLES, engine/audit.py ACTIONS)
    N_("系统管理员"), N_("安全管理员"), N_("安全审计员"),
    N_("登录"), N_("登录失败"), N_("登录被限制"), N_("退出登录"), N_("创建账号"), N_("修改权限"), N_("修改密码"),
    N_("签发令牌"), N_("停用账号"), N_("启用账号"), N_("部署"), N_("迁移项目"), N_("创建草稿"), N_("保存草稿"),
    N_("放弃草稿"), N_("导出项目"), N_("导入项目"), N_("备份"), N_("升级数据库"), N_("系统"), N_("本机运维"), N_("修复投影"), N_("校验审计日志"), N_("导出审计日志"),
    N_("重试"), N_("挂起"), N_("恢复"), N_("终止"), N_("单位变更"), N_("是"), N_("否"), N_("全部单位"),
    # the audit log's detail keys (web/admin.py DETAIL_KEYS)
    N_("地址"), N_("常用设备"), N_("限制秒数"), N_("角色"), N_("单位"), N_("原"), N_("新"), N_("版本"), N_("内容哈希"),
    N_("流程"), N_("说明"), N_("已校验"), N_("完整"), N_("断点"), N_("行数"), N_("问题"), N_("文件"), N_("大小"),
    N_("项目数"), N_("变更"), N_("名称"), N_("演示"), N_("账号"), N_("操作"), N_("操作人"), N_("新建"),
]
KNOWN_LABELS = frozenset(RUNTIME_LABELS)

"""The case file (案卷): attachments stored by content hash, and comments."""
from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import InvalidData, NotFound
from .models import Attachment, Comment
from .projection import append_event

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_COMMENT_CHARS = 4000
MAX_NAME_CHARS = 200
# Characters Windows refuses in file names, and quotes that break a Content-Disposition header.
_UNSAFE_NAME_CHARS = set('<>:"/\\|?*')
# What clerks really file: notices and reports (PDF, Word), ledgers (Excel), scans and photos.
ALLOWED_TYPES = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
    ".txt": "text/plain", ".ofd": "application/ofd",
}
_MAGIC = {".pdf": b"%PDF", ".png": b"\x89PNG", ".jpg": b"\xff\xd8", ".jpeg": b"\xff\xd8",
          ".docx": b"PK", ".xlsx": b"PK", ".ofd": b"PK", ".doc": b"\xd0\xcf", ".xls": b"\xd0\xcf"}


def attachments_dir() -> Path:
    return Path(os.environ.get("DUBAN_ATTACHMENTS", Path.cwd() / "instance" / "attachments"))


def _blob_path(root: Path, digest: str) -> Path:
    return root / digest[:2] / digest


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes


def clean_filename(filename: str) -> str:
    """The name to store and send back: no folders, no control or format characters (CR/LF would break the
    download's headers, U+202E would disguise the extension), none of <>:"/\\|?*, single spaces."""
    name = unicodedata.normalize("NFC", filename.replace("\\", "/")).rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in _UNSAFE_NAME_CHARS)
    name = " ".join(name.split()).lstrip(".").rstrip(". ")
    if len(name) > MAX_NAME_CHARS:
        stem, ext = os.path.splitext(name)
        name = stem[:MAX_NAME_CHARS - len(ext)] + ext
    return name


def check_upload(upload: Upload) -> tuple[str, str]:
    """(clean file name, content type) for an acceptable upload, else InvalidData naming the problem."""
    name = clean_filename(upload.filename)
    ext = os.path.splitext(name)[1].lower()
    if not name or ext not in ALLOWED_TYPES:
        raise InvalidData("不支持的附件类型", details={"file": [f"允许：{' '.join(sorted(ALLOWED_TYPES))}"]})
    if not upload.content:
        raise InvalidData("附件为空", details={"file": ["文件没有内容"]})
    if len(upload.content) > MAX_ATTACHMENT_BYTES:
        raise InvalidData("附件过大", details={"file": [f"不能超过 {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB"]})
    magic = _MAGIC.get(ext)
    if magic and not upload.content.startswith(magic):
        raise InvalidData("附件内容与扩展名不符", details={"file": [f"{name} 不是有效的 {ext} 文件"]})
    return name, ALLOWED_TYPES[ext]


def add_attachment(session: Session, case_id: int, upload: Upload, actor: str, now: datetime,
                   work_item_id: int | None = None, root: Path | None = None) -> Attachment:
    """Store the file once per content hash and record it on the case."""
    name, content_type = check_upload(upload)
    digest = hashlib.sha256(upload.content).hexdigest()
    path = _blob_path(root or attachments_dir(), digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(upload.content)
        tmp.replace(path)  # atomic: a reader never sees half a file
    row = Attachment(case_id=case_id, work_item_id=work_item_id, filename=name, content_type=content_type,
                     size=len(upload.content), sha256=digest, uploaded_by=actor, uploaded_at=now)
    session.add(row)
    session.flush()
    append_event(session, case_id, actor, "attachment_added", now, after={"attachment_id": row.id, "filename": name, "size": row.size})
    return row


def attachment_file(session: Session, attachment_id: int, root: Path | None = None) -> tuple[Attachment, Path]:
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(f"附件不存在：{attachment_id}")
    path = _blob_path(root or attachments_dir(), row.sha256)
    if not path.exists():
        raise NotFound(f"附件文件缺失：{row.filename}")
    return row, path


def add_comment(session: Session, case_id: int, body: str, actor: str, now: datetime,
                work_item_id: int | None = None) -> Comment:
    text = (body or "").strip()
    if not text:
        raise InvalidData("意见不能为空", details={"body": ["不能为空"]})
    if len(text) > MAX_COMMENT_CHARS:
        raise InvalidData("意见过长", details={"body": [f"最多 {MAX_COMMENT_CHARS} 个字符"]})
    row = Comment(case_id=case_id, work_item_id=work_item_id, author=actor, body=text, at=now)
    session.add(row)
    session.flush()
    append_event(session, case_id, actor, "comment_added", now, after={"comment_id": row.id, "body": text[:200]})
    return row


def case_file(session: Session, case_id: int) -> tuple[list[Attachment], list[Comment]]:
    attachments = session.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)).all()
    comments = session.scalars(select(Comment).where(Comment.case_id == case_id).order_by(Comment.id)).all()
    return list(attachments), list(comments)

"""`duban document CASE_ID KIND --out FILE.docx`: the case page's 生成公文 from the shell."""
from __future__ import annotations

from pathlib import Path

import click

from engine import casefile
from engine.access import Actor
from engine.errors import InvalidData

from . import generate, kind_of


def run_document(engine, actor: Actor, case_id: int, kind: str, out: str) -> None:
    kind_of(kind)  # an unknown kind is refused before anything is opened
    target = Path(out)
    if target.suffix.lower() != ".docx":
        raise InvalidData("输出文件须以 .docx 结尾", details={"--out": [out]})
    if not target.parent.is_dir():
        raise InvalidData("输出文件所在的文件夹不存在", details={"--out": [str(target.parent)]})
    with engine.db.transaction() as session:
        row = generate(session, case_id, kind, actor, engine.clock())
        _, path = casefile.attachment_file(session, row.attachment_id)
        try:  # inside the transaction: a file that cannot be written leaves the number untaken
            target.write_bytes(path.read_bytes())
        except OSError as err:
            raise InvalidData("无法写入输出文件", details={"--out": [f"{out}: {err.strerror}"]})
        line = f"{row.number}\t{row.title}\t{target}\t附件 #{row.attachment_id}"
    click.echo(line)

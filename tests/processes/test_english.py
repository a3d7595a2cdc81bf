"""The process library speaks English too: every name, instruction and form text a designer wrote has an
English counterpart (`name_en`, `instructions_en`, `title_en`, `description_en`), read into the catalogue."""
from __future__ import annotations

import json
import re

import pytest

from engine.validation import check_paths
from tests.conftest import PROCESSES

CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
PARSED = {p.process_key: p for p in check_paths([str(PROCESSES)])[1] if hasattr(p, "process_key")}  # decision tables aside


def _english(text: str | None, what: str) -> None:
    assert text, f"{what}: no English"
    assert not CHINESE.search(text), f"{what}: Chinese in the English text: {text}"


@pytest.mark.parametrize("key", sorted(PARSED))
def test_every_step_and_the_process_have_english_names_and_instructions(key):
    catalogue = PARSED[key].catalogue
    _english(catalogue["name_en"], key)
    for step_id, step in [("start", catalogue["start"]), *catalogue["steps"].items()]:
        _english(step["name_en"], f"{key}.{step_id}")
        if step["instructions"]:
            _english(step["instructions_en"], f"{key}.{step_id} instructions")
    # service tasks, gateways, events, lanes and flows too: the timeline and the English diagram show them
    assert set(catalogue["names_en"]) == set(catalogue["names"])
    for element_id, name in catalogue["names_en"].items():
        _english(name, f"{key}.{element_id}")


def _texts(node, path="$"):
    """(path, key, Chinese, English) of every title and description in a form (property names aside)."""
    if isinstance(node, dict):
        for key in ("title", "description"):
            if isinstance(node.get(key), str):
                yield path, key, node[key], node.get(f"{key}_en")
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield from _texts(sub, f"{path}.{name}")
            elif isinstance(value, (dict, list)):
                yield from _texts(value, f"{path}.{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _texts(value, f"{path}[{n}]")


@pytest.mark.parametrize("path", sorted((PROCESSES / "forms").glob("*.json")), ids=lambda p: p.stem)
def test_every_form_text_has_english(path):
    form = json.loads(path.read_text(encoding="utf-8"))
    texts = list(_texts(form))
    assert texts
    for where, key, chinese, english in texts:
        _english(english, f"{path.name} {where} {key} ({chinese})")
    for rule in form.get("x-rules") or []:
        _english(rule.get("message_en"), f"{path.name} x-rules {rule['check']}")

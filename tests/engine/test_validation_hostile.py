"""Hostile and broken BPMN must be refused, never executed and never stored.

Every fixture in tests/fixtures/bad_bpmn/ is a small executable process with a
laneSet (lanes ``organization`` and ``unit``) that carries exactly one defect
(``several_problems.bpmn`` carries three).  ``engine.validation.validate_paths``
must report that defect as a ``Problem`` with the expected code, element id and
source line, formatted ``FILE:LINE: ELEMENT_ID: message``; the CLI must print
those lines and exit 1 without a traceback; ``duban deploy`` must store nothing.

Expected lines are computed from the fixture text (the line holding
``id="<element>"``, the DOCTYPE, or the truncation), never hard-coded.

The fixtures are copied into a temporary directory before use, with the
``/tmp/duban_pwned`` marker in ``script_import.bpmn`` rewritten to a unique
path; every test checks afterwards that this path was never created.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `.venv/bin/pytest` does not put the repo root on sys.path
    sys.path.insert(0, str(REPO))

validation = pytest.importorskip("engine.validation")
validate_paths = validation.validate_paths

FIXTURES = REPO / "tests" / "fixtures" / "bad_bpmn"
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
MARKER_IN_FIXTURE = "/tmp/duban_pwned"

VALIDATE_TIMEOUT_S = 10.0  # a hang (e.g. entity expansion) must fail, not block the suite
CORPUS_TIMEOUT_S = 5.0
TOO_LARGE_BUDGET_S = 2.0
CLI_TIMEOUT_S = 180

# What follows "FILE:" in one line of `duban validate` output / one str(Problem).
REST_RE = re.compile(r"^(?P<line>\d+): (?P<element_id>\S+): (?P<message>.+)$")

# (fixture, expected code, acceptable element ids, where the line is)
#   where: "id"      -> line(s) holding id="<element id>"
#          "doctype" -> from the <!DOCTYPE line to the line closing the internal subset
#          "eof"     -> the last line (the file is cut there, without trailing newline)
#          "nowhere" -> 0 (unknown) or 1
CASES = [
    ("external_entity.bpmn", "xml.entity", ("-",), "doctype"),
    ("billion_laughs.bpmn", "xml.entity", ("-",), "doctype"),
    ("script_import.bpmn", "expression.refused", ("scr_evil",), "id"),
    ("condition_dunder.bpmn", "expression.refused", ("flow_evil",), "id"),
    ("unknown_handler.bpmn", "handler.unknown", ("svc_x",), "id"),
    ("task_outside_lane.bpmn", "lane.missing", ("orphan_task",), "id"),
    ("dangling_flow.bpmn", "flow.dangling", ("flow_dangling",), "id"),
    ("duplicate_ids.bpmn", "id.duplicate", ("task_a",), "id"),
    ("bad_timer.bpmn", "timer.invalid", ("timer_bad",), "id"),
    ("bad_timer.bpmn", "timer.invalid", ("timer_bad2",), "id"),
    # the problem may be pinned on the lane or on the user task inside it
    ("lane_unknown_role.bpmn", "lane.unknown_role", ("lane_x", "task_finance"), "id"),
    ("missing_form.bpmn", "form.missing", ("task_form",), "id"),
    ("not_xml.bpmn", "xml.syntax", ("-",), "eof"),
    ("empty.bpmn", "xml.syntax", ("-",), "nowhere"),
    ("several_problems.bpmn", "handler.unknown", ("svc_x",), "id"),
    ("several_problems.bpmn", "expression.refused", ("flow_evil",), "id"),
    ("several_problems.bpmn", "lane.missing", ("orphan_task",), "id"),
    ("lambda_condition.bpmn", "expression.refused", ("flow_lambda",), "id"),
    ("lambda_script.bpmn", "expression.refused", ("scr_lambda",), "id"),
]
FIXTURE_NAMES = sorted({case[0] for case in CASES})

# Textual repairs that remove the (only) defect: the repaired file must validate clean,
# which proves each fixture is otherwise valid and the validator has no false positives.
REPAIRS: dict[str, list[tuple[str, str]]] = {
    "external_entity.bpmn": [
        ('<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n', ""),
        (" &xxe;", ""),
    ],
    "billion_laughs.bpmn": [
        (re.compile(r"<!DOCTYPE.*?\]>\n", re.S), ""),
        ("      <bpmn:documentation>&lol9;</bpmn:documentation>\n", ""),
    ],
    "script_import.bpmn": [
        ("__import__('os').system('touch {marker}')", "closed_count = 3"),
    ],
    "condition_dunder.bpmn": [("().__class__.__bases__[0].__subclasses__()", "approved == True")],
    "unknown_handler.bpmn": [('serviceTaskOperator id="os.system"', 'serviceTaskOperator id="findings.merge"')],
    "task_outside_lane.bpmn": [
        (
            "        <bpmn:flowNodeRef>task_submit</bpmn:flowNodeRef>\n",
            "        <bpmn:flowNodeRef>task_submit</bpmn:flowNodeRef>\n"
            "        <bpmn:flowNodeRef>orphan_task</bpmn:flowNodeRef>\n",
        )
    ],
    "dangling_flow.bpmn": [('targetRef="no_such_node"', 'targetRef="task_submit"')],
    "duplicate_ids.bpmn": [
        ('<bpmn:userTask id="task_a" name="审核整改材料" />', '<bpmn:userTask id="task_b" name="审核整改材料" />'),
        (
            '<bpmn:lane id="unit" name="被审单位">\n        <bpmn:flowNodeRef>task_a</bpmn:flowNodeRef>',
            '<bpmn:lane id="unit" name="被审单位">\n        <bpmn:flowNodeRef>task_b</bpmn:flowNodeRef>',
        ),
        (
            '<bpmn:sequenceFlow id="flow_2" sourceRef="task_a" targetRef="end" />',
            '<bpmn:sequenceFlow id="flow_2" sourceRef="task_a" targetRef="task_b" />\n'
            '    <bpmn:sequenceFlow id="flow_3" sourceRef="task_b" targetRef="end" />',
        ),
    ],
    "bad_timer.bpmn": [('"PT10X"', '"PT10M"'), (">every tuesday<", '>"R3/PT1H"<')],
    "lane_unknown_role.bpmn": [('name="财务科"', 'name="审计局"')],
    # missing_form.bpmn is repaired by providing nope.json in the forms dir (see test)
    "missing_form.bpmn": [],
    "several_problems.bpmn": [
        ('serviceTaskOperator id="os.system"', 'serviceTaskOperator id="findings.merge"'),
        ("().__class__.__bases__[0].__subclasses__()", "approved == True"),
        (
            "        <bpmn:flowNodeRef>task_submit</bpmn:flowNodeRef>\n",
            "        <bpmn:flowNodeRef>task_submit</bpmn:flowNodeRef>\n"
            "        <bpmn:flowNodeRef>orphan_task</bpmn:flowNodeRef>\n",
        ),
    ],
    "lambda_condition.bpmn": [("(lambda: 1)()", "approved == True")],
    "lambda_script.bpmn": [("(lambda: 1)()", "closed_count = 3")],
}


# --------------------------------------------------------------------------- helpers


def _expected_lines(text: str, element_id: str, where: str) -> set[int]:
    lines = text.splitlines()
    if where == "id":
        found = {n for n, line in enumerate(lines, 1) if f'id="{element_id}"' in line}
        assert found, f'fixture has no id="{element_id}"'
        return found
    if where == "doctype":
        start = next(n for n, line in enumerate(lines, 1) if "<!DOCTYPE" in line)
        end = next(n for n, line in enumerate(lines, 1) if n >= start and "]>" in line)
        return set(range(start, end + 1))
    if where == "eof":
        assert text and not text.endswith("\n"), "truncated fixture must end mid-line"
        return {len(lines)}
    if where == "nowhere":
        return {0, 1}
    raise AssertionError(where)


def _call_with_timeout(fn, timeout: float):
    """Run fn() in a daemon thread; fail (instead of hanging) if it does not return in time."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported below
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    started = time.perf_counter()
    thread.start()
    thread.join(timeout)
    elapsed = time.perf_counter() - started
    if thread.is_alive():
        pytest.fail(f"validate_paths did not return within {timeout:.0f} s")
    if "error" in box:
        raise AssertionError(f"validate_paths raised (contract: never raises): {box['error']!r}") from box["error"]
    return box["value"], elapsed


def _validate(paths, forms_dir=None, timeout: float = VALIDATE_TIMEOUT_S):
    paths = [str(p) for p in paths]
    forms = None if forms_dir is None else str(forms_dir)
    problems, elapsed = _call_with_timeout(lambda: validate_paths(paths, forms_dir=forms), timeout)
    assert isinstance(problems, list), f"validate_paths returned {type(problems).__name__}, not list"
    for problem in problems:
        _assert_problem_well_formed(problem, paths)
    return problems, elapsed


def _assert_problem_well_formed(problem, given_paths) -> None:
    rendered = str(problem)
    assert problem.file in given_paths, f"Problem.file {problem.file!r} is not a path as given {given_paths!r}"
    assert isinstance(problem.line, int) and problem.line >= 0, rendered
    assert isinstance(problem.element_id, str) and problem.element_id, rendered
    assert isinstance(problem.code, str) and problem.code, rendered
    assert isinstance(problem.message, str) and problem.message.strip(), rendered
    assert "\n" not in rendered and "\r" not in rendered, f"multi-line problem: {rendered!r}"
    assert rendered == f"{problem.file}:{problem.line}: {problem.element_id}: {problem.message}"
    assert REST_RE.match(rendered[len(problem.file) + 1 :]), rendered


def _describe(problems) -> str:
    return "\n".join(f"  [{p.code}] {p}" for p in problems) or "  (no problems)"


def _assert_case(problems, path: Path, code, element_ids, where):
    text = path.read_text(encoding="utf-8")
    expected = {eid: _expected_lines(text, eid, where) for eid in element_ids}
    hits = [
        p
        for p in problems
        if p.file == str(path) and p.code == code and p.line in expected.get(p.element_id, ())
    ]
    wanted = " or ".join(f"{eid} at line {sorted(lines)}" for eid, lines in expected.items())
    assert hits, f"{path.name}: expected a [{code}] problem on {wanted}; got:\n{_describe(problems)}"
    for hit in hits:
        assert re.match(rf"^{re.escape(str(path))}:\d+: {re.escape(hit.element_id)}: .+", str(hit)), str(hit)


def _cli(*args, db_url: str, timeout: float = CLI_TIMEOUT_S):
    env = os.environ.copy()
    env["DUBAN_DATABASE_URL"] = db_url
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=timeout,
    )
    out = proc.stdout.decode("utf-8", errors="replace")
    err = proc.stderr.decode("utf-8", errors="replace")
    assert "Traceback" not in err, f"duban {' '.join(map(str, args))} crashed:\n{err}"
    assert "Traceback" not in out, f"duban {' '.join(map(str, args))} printed a traceback:\n{out}"
    return proc.returncode, out, err


def _split_cli_line(line: str, given_paths):
    """(file, REST_RE match) if line is `FILE:LINE: ELEMENT_ID: message` for a given FILE, else None."""
    for path in sorted(given_paths, key=len, reverse=True):
        if line.startswith(f"{path}:"):
            m = REST_RE.match(line[len(path) + 1 :])
            if m:
                return path, m
    return None


def _assert_cli_lines(out: str, given_paths) -> list[str]:
    """Every non-blank stdout line must be `FILE:LINE: ELEMENT_ID: message` for one of the given paths."""
    lines = [line for line in out.splitlines() if line.strip()]
    for line in lines:
        assert _split_cli_line(line, given_paths), f"not FILE:LINE: ELEMENT_ID: message for a given FILE: {line!r}"
    return lines


def _process_version_rows(db_file: Path) -> int:
    with sqlite3.connect(db_file) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert "process_version" in tables, f"no process_version table after init; tables: {tables}"
        return conn.execute("SELECT COUNT(*) FROM process_version").fetchone()[0]


def _repair(text: str, fixture: str, marker: Path) -> str:
    for old, new in REPAIRS[fixture]:
        if isinstance(old, re.Pattern):
            text, n = old.subn(new, text)
            assert n == 1, f"{fixture}: repair {old.pattern!r} did not apply"
        else:
            old = old.replace("{marker}", str(marker))
            assert text.count(old) == 1, f"{fixture}: repair {old!r} does not apply exactly once"
            text = text.replace(old, new)
    return text


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def marker(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("marker") / f"duban_pwned_{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory, marker) -> Path:
    """Copies of the fixtures, with the script's marker pointing at a unique path."""
    dest = tmp_path_factory.mktemp("hostile") / "bad_bpmn"
    dest.mkdir()
    for src in sorted(FIXTURES.glob("*.bpmn")):
        (dest / src.name).write_bytes(src.read_bytes().replace(MARKER_IN_FIXTURE.encode(), str(marker).encode()))
    assert "touch " + str(marker) in (dest / "script_import.bpmn").read_text(encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def empty_forms(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("forms_empty")


@pytest.fixture(scope="module")
def scratch_db_url(tmp_path_factory) -> str:
    """Keeps `duban validate` away from any real database."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'validate.db'}"


@pytest.fixture(autouse=True)
def _nothing_executed(marker):
    yield
    assert not marker.exists(), f"a script/expression from a fixture was EXECUTED: {marker} exists"


@pytest.fixture(scope="module")
def huge_file(tmp_path_factory) -> Path:
    """A valid header, then a 50 MB documentation element (generated, never committed)."""
    path = tmp_path_factory.mktemp("huge") / "huge.bpmn"
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' id="Definitions_huge" targetNamespace="http://bpmn.io/schema/bpmn">\n'
        '  <bpmn:process id="Process_huge" name="整改跟踪" isExecutable="true">\n'
        '    <bpmn:laneSet id="LaneSet_1">\n'
        '      <bpmn:lane id="organization" name="组织部">\n'
        "        <bpmn:flowNodeRef>task_review</bpmn:flowNodeRef>\n"
        "      </bpmn:lane>\n"
        '      <bpmn:lane id="unit" name="被审单位" />\n'
        "    </bpmn:laneSet>\n"
        '    <bpmn:userTask id="task_review" name="审核整改材料">\n'
        "      <bpmn:documentation>"
    )
    tail = "</bpmn:documentation>\n    </bpmn:userTask>\n  </bpmn:process>\n</bpmn:definitions>\n"
    chunk = ("整改台账" * 4 + "abcdefgh" * 6 + "\n").encode("utf-8") * 8192  # ~ 1 MiB
    with path.open("wb") as fh:
        fh.write(head.encode("utf-8"))
        written = 0
        while written < 50 * 1024 * 1024:
            fh.write(chunk)
            written += len(chunk)
        fh.write(tail.encode("utf-8"))
    assert path.stat().st_size >= 50 * 1024 * 1024
    return path


# --------------------------------------------------------------------------- fixture sanity


def test_every_fixture_file_is_covered():
    on_disk = sorted(p.name for p in FIXTURES.glob("*.bpmn"))
    assert on_disk == FIXTURE_NAMES, "fixtures and CASES disagree"
    assert sorted(REPAIRS) == sorted(set(FIXTURE_NAMES) - {"not_xml.bpmn", "empty.bpmn"})
    assert (FIXTURES / "empty.bpmn").stat().st_size == 0


# --------------------------------------------------------------------------- validate_paths


@pytest.mark.parametrize(
    "fixture, code, element_ids, where",
    CASES,
    ids=[f"{c[0].removesuffix('.bpmn')}-{c[2][0]}" for c in CASES],
)
def test_defect_is_reported(bad_dir, empty_forms, fixture, code, element_ids, where):
    path = bad_dir / fixture
    problems, _ = _validate([path], forms_dir=empty_forms)
    _assert_case(problems, path, code, element_ids, where)


def test_several_problems_are_all_reported_at_once(bad_dir, empty_forms):
    path = bad_dir / "several_problems.bpmn"
    problems, _ = _validate([path], forms_dir=empty_forms)
    found = {(p.code, p.element_id) for p in problems}
    wanted = {("handler.unknown", "svc_x"), ("expression.refused", "flow_evil"), ("lane.missing", "orphan_task")}
    assert wanted <= found, f"missing {wanted - found}; got:\n{_describe(problems)}"


def test_all_fixtures_in_one_call(bad_dir, empty_forms):
    paths = [bad_dir / name for name in FIXTURE_NAMES]
    problems, _ = _validate(paths, forms_dir=empty_forms, timeout=VALIDATE_TIMEOUT_S * 3)
    for fixture, code, element_ids, where in CASES:
        _assert_case(problems, bad_dir / fixture, code, element_ids, where)


def test_script_is_not_executed(bad_dir, empty_forms, marker):
    problems, _ = _validate([bad_dir / "script_import.bpmn"], forms_dir=empty_forms)
    assert problems
    assert not marker.exists(), "validating script_import.bpmn executed its script"


def test_path_is_reported_as_given(bad_dir, empty_forms, monkeypatch):
    monkeypatch.chdir(bad_dir.parent)
    rel = os.path.join("bad_bpmn", "unknown_handler.bpmn")
    problems, _ = _validate([rel], forms_dir=empty_forms)
    assert problems and all(p.file == rel for p in problems), _describe(problems)
    assert any(str(p).startswith(f"{rel}:") for p in problems)


def test_missing_file_is_a_problem_not_an_exception(tmp_path, empty_forms):
    ghost = tmp_path / "does_not_exist.bpmn"
    problems, _ = _validate([ghost], forms_dir=empty_forms)
    assert problems, "a missing file must be reported"


def test_too_large_file_is_refused_quickly(huge_file, empty_forms):
    problems, elapsed = _validate([huge_file], forms_dir=empty_forms)
    hits = [p for p in problems if p.code == "file.too_large" and p.element_id == "-" and p.line in (0, 1)]
    assert hits, f"expected [file.too_large] on '-'; got:\n{_describe(problems)}"
    assert re.match(rf"^{re.escape(str(huge_file))}:\d+: -: .+", str(hits[0]))
    assert elapsed < TOO_LARGE_BUDGET_S, f"refusing a 50 MB file took {elapsed:.2f} s (parsed it?)"


@pytest.mark.parametrize("fixture", sorted(REPAIRS))
def test_repaired_fixture_is_clean(bad_dir, tmp_path, marker, fixture):
    """Undoing the one defect leaves a valid file: the fixture had no other defect."""
    forms = tmp_path / "forms"
    forms.mkdir()
    if fixture == "missing_form.bpmn":
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "整改台账",
            "type": "object",
            "required": ["item"],
            "properties": {"item": {"type": "string", "title": "整改事项"}},
        }
        (forms / "nope.json").write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    path = tmp_path / fixture
    path.write_text(_repair((bad_dir / fixture).read_text(encoding="utf-8"), fixture, marker), encoding="utf-8")
    problems, _ = _validate([path], forms_dir=forms)
    assert problems == [], f"repaired {fixture} should be valid; got:\n{_describe(problems)}"


# --------------------------------------------------------------------------- CLI


@pytest.mark.parametrize("fixture", FIXTURE_NAMES)
def test_cli_validate_refuses(bad_dir, scratch_db_url, fixture):
    path = bad_dir / fixture
    code, out, _ = _cli("validate", path, db_url=scratch_db_url)
    assert code == 1, f"exit {code}, stdout:\n{out}"
    lines = _assert_cli_lines(out, [str(path)])
    assert lines, "no problem printed"
    text = path.read_text(encoding="utf-8")
    for case_fixture, _code, element_ids, where in CASES:
        if case_fixture != fixture:
            continue
        expected = {
            f"{path}:{line}: {eid}: " for eid in element_ids for line in _expected_lines(text, eid, where)
        }
        assert any(line.startswith(prefix) for line in lines for prefix in expected), (
            f"none of {sorted(expected)} in:\n{out}"
        )


def test_cli_validate_many_files(bad_dir, scratch_db_url):
    paths = [str(bad_dir / name) for name in FIXTURE_NAMES]
    code, out, _ = _cli("validate", *paths, db_url=scratch_db_url)
    assert code == 1
    lines = _assert_cli_lines(out, paths)
    reported = {_split_cli_line(line, paths)[0] for line in lines}
    assert reported == set(paths), f"files without any problem line: {sorted(set(paths) - reported)}"


def test_cli_validate_too_large(huge_file, scratch_db_url):
    code, out, _ = _cli("validate", huge_file, db_url=scratch_db_url)
    assert code == 1
    lines = _assert_cli_lines(out, [str(huge_file)])
    assert any(re.match(rf"^{re.escape(str(huge_file))}:\d+: -: .+", line) for line in lines), out


def test_cli_validate_clean_file_exits_0(bad_dir, tmp_path, marker, scratch_db_url):
    clean = tmp_path / "clean.bpmn"
    clean.write_text(
        _repair((bad_dir / "unknown_handler.bpmn").read_text(encoding="utf-8"), "unknown_handler.bpmn", marker),
        encoding="utf-8",
    )
    code, out, err = _cli("validate", clean, db_url=scratch_db_url)
    assert code == 0, f"exit {code}:\n{out}\n{err}"
    assert not any(_split_cli_line(line, [str(clean)]) for line in out.splitlines()), out


# --------------------------------------------------------------------------- deploy stores nothing


@pytest.fixture
def fresh_db(tmp_path):
    db_file = tmp_path / "t.db"
    url = f"sqlite:///{db_file}"
    code, out, err = _cli("init", db_url=url)
    assert code == 0, f"duban init failed ({code}):\n{out}\n{err}"
    assert _process_version_rows(db_file) == 0
    return db_file, url


def _clean_copy(bad_dir, tmp_path, marker) -> Path:
    clean = tmp_path / "clean.bpmn"
    clean.write_text(
        _repair((bad_dir / "unknown_handler.bpmn").read_text(encoding="utf-8"), "unknown_handler.bpmn", marker),
        encoding="utf-8",
    )
    return clean


def test_deploy_hostile_directory_stores_nothing(bad_dir, fresh_db):
    db_file, url = fresh_db
    paths = sorted(str(p) for p in bad_dir.glob("*.bpmn"))
    code, out, _ = _cli("deploy", *paths, db_url=url)
    assert code == 1, f"deploy of hostile files exited {code}:\n{out}"
    code, out, err = _cli("tasks", "--json", db_url=url)
    assert code == 0, f"tasks --json exited {code}:\n{out}\n{err}"
    data = json.loads(out)
    assert not data or (isinstance(data, dict) and all(not v for v in data.values())), data
    assert _process_version_rows(db_file) == 0


def test_deploy_each_hostile_file_stores_nothing(bad_dir, fresh_db):
    db_file, url = fresh_db
    for path in sorted(bad_dir.glob("*.bpmn")):
        code, out, _ = _cli("deploy", path, db_url=url)
        assert code == 1, f"deploy {path.name} exited {code}:\n{out}"
        assert _process_version_rows(db_file) == 0, f"deploy {path.name} stored a process version"


def test_deploy_clean_plus_hostile_stores_nothing(bad_dir, fresh_db, tmp_path, marker):
    db_file, url = fresh_db
    clean = _clean_copy(bad_dir, tmp_path, marker)
    code, out, _ = _cli("deploy", clean, bad_dir / "script_import.bpmn", db_url=url)
    assert code == 1, f"exit {code}:\n{out}"
    assert _process_version_rows(db_file) == 0, "a valid file was stored although another one failed"


def test_deploy_clean_control_stores_a_version(bad_dir, fresh_db, tmp_path, marker):
    """Positive control: proves the zero-row assertions above can fail."""
    db_file, url = fresh_db
    clean = _clean_copy(bad_dir, tmp_path, marker)
    code, out, err = _cli("deploy", clean, db_url=url)
    assert code == 0, f"deploy of a clean file exited {code}:\n{out}\n{err}"
    assert _process_version_rows(db_file) >= 1


# --------------------------------------------------------------------------- real-world corpus


def _corpus_files() -> list[Path]:
    return sorted(CORPUS.rglob("*.bpmn")) if CORPUS.is_dir() else []


CORPUS_FILES = _corpus_files()


def _corpus_missing():
    msg = f"BPMN corpus not found at {CORPUS} (or it holds no *.bpmn)"
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.mark.parametrize(
    "bpmn",
    CORPUS_FILES or [None],
    ids=[str(p.relative_to(CORPUS)) for p in CORPUS_FILES] or ["corpus-missing"],
)
def test_corpus_file_never_crashes(bpmn, empty_forms):
    if bpmn is None:
        _corpus_missing()
    problems, elapsed = _validate([bpmn], forms_dir=empty_forms, timeout=CORPUS_TIMEOUT_S)
    assert elapsed < CORPUS_TIMEOUT_S


def test_corpus_cli_never_crashes(scratch_db_url):
    if not CORPUS_FILES:
        _corpus_missing()
    paths = [str(p) for p in CORPUS_FILES]
    code, out, _ = _cli("validate", *paths, db_url=scratch_db_url, timeout=max(CLI_TIMEOUT_S, 5 * len(paths)))
    assert code in (0, 1), f"exit {code}"
    _assert_cli_lines(out, paths)

"""Schemathesis against the live /api/v1 OpenAPI document: no 500s, and every response is what the document says.

The document is loaded from the running app (`schemathesis.openapi.from_wsgi`), so it is tested as served.
A few cases and work items exist so that generated ids sometimes hit real rows (200/204/409 paths, not only 404).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from sqlalchemy import select

from engine.accounts import add_user
from engine.models import User
from tests.conftest import CASE_FACTS, as_user, complete_step, make_engine

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection, ignored_auth, unsupported_method]


def _live_app():
    """A database with some work in it and the app on top; built at import, as `parametrize` needs the schema."""
    from web import create_app
    from engine.accounts import issue_token

    url = f"sqlite:///{Path(_TMP.name) / 't.db'}"
    engine = make_engine(url)
    with engine.db.transaction() as session:
        add_user(session, "clerk_shagou", "correct horse battery", ["organization"], ["沙沟镇"])
    organization = as_user(engine, "organization")
    for unit in ("戴窑镇", "沙沟镇", "戴窑镇"):
        engine.start_case("joint_audit_xinghua", dict(CASE_FACTS, unit=unit), organization)
    complete_step(engine, 1, "issue_notice")  # one completed item, so 409 paths are reachable
    engine.claim(engine.tasks(case_id=2)[0]["id"], organization)  # one claimed item
    with engine.db.transaction() as session:
        tokens = {name: issue_token(session, session.scalar(select(User).where(User.username == name)), "fuzz")
                  for name in ("organization", "clerk_shagou")}
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "TESTING": True})
    return app, tokens


_TMP = tempfile.TemporaryDirectory(prefix="duban-schemathesis-")
APP, TOKENS = _live_app()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


SETTINGS = settings(max_examples=int(os.environ.get("DUBAN_API_FUZZ_EXAMPLES", "25")), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])


@schema.parametrize()
@SETTINGS
def test_api_matches_its_openapi_document(case):
    """As the organization department (all units): the 2xx, 400, 401, 404 and 409 paths."""
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKENS['organization']}"}, checks=CHECKS)


@schema.parametrize()
@SETTINGS
def test_api_matches_its_document_for_a_clerk_of_another_unit(case):
    """As an organization clerk of 沙沟镇 only: work of 戴窑镇 answers 403, and that answer is documented too."""
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKENS['clerk_shagou']}"}, checks=CHECKS)

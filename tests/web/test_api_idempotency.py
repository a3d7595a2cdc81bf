"""POST /api/v1/cases with an Idempotency-Key: a retry after a lost response gets the same case back, never a
second one — also when the retries race each other, on SQLite and on PostgreSQL."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.accounts import add_user, issue_token
from engine.idempotency import STALE
from engine.models import Case, IdempotencyKey, User
from tests.conftest import CASE_FACTS, make_engine

KEY = "joint_audit_xinghua"
BODY = {"process_key": KEY, "data": dict(CASE_FACTS, cadre_name="幂等")}


def _world(url):
    engine = make_engine(url)
    with engine.db.transaction() as session:
        add_user(session, "clerk_shagou", "correct horse battery", ["organization"], ["沙沟镇"])
        tokens = {name: issue_token(session, session.scalar(select(User).where(User.username == name)), "t")
                  for name in ("organization", "audit", "clerk_shagou")}
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "idem", "TESTING": True})
    return {"app": app, "engine": engine, "tokens": tokens}


@pytest.fixture
def world(tmp_path):
    return _world(f"sqlite:///{tmp_path / 'i.db'}")


def post(world, key, body=BODY, user="organization"):
    headers = {"Authorization": f"Bearer {world['tokens'][user]}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return world["app"].test_client().post("/api/v1/cases", json=body, headers=headers)


def age_keys(world, by: timedelta, **values) -> None:
    """Make the stored keys older (computed here: SQLite does no date arithmetic on its text dates)."""
    with world["engine"].db.transaction() as session:
        for row in session.scalars(select(IdempotencyKey)).all():
            row.created_at -= by
            for name, value in values.items():
                setattr(row, name, value)


def cases(world) -> int:
    with world["engine"].db.reading() as session:
        return session.scalar(select(func.count()).select_from(Case))


def test_a_retry_with_the_same_key_gets_the_same_case(world):
    first = post(world, "order-7f3a")
    again = post(world, "order-7f3a", {"data": BODY["data"], "process_key": KEY})  # same body, keys reordered
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert cases(world) == 1
    assert post(world, None).status_code == 201 and post(world, None).status_code == 201  # no key: no promise
    assert cases(world) == 3


def test_the_same_key_with_another_body_is_refused(world):
    assert post(world, "k-1").status_code == 201
    other = post(world, "k-1", {"process_key": KEY, "data": dict(CASE_FACTS, cadre_name="别人")})
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.get_json()["message"] and cases(world) == 1


def test_keys_belong_to_their_user_and_bad_keys_are_400(world):
    mine = post(world, "shared-key")
    assert post(world, "shared-key", user="audit").status_code in (201, 403)  # another user's key space
    assert post(world, "shared-key").get_json() == mine.get_json()
    for bad in ("", "has space", "x" * 201, "键"):
        response = post(world, bad)
        assert response.status_code == 400 and "Idempotency-Key" in response.get_json()["fields"], bad


def test_a_refused_start_leaves_the_key_free(world):
    refused = post(world, "k-2", {"process_key": KEY, "data": dict(CASE_FACTS, unit="戴窑镇")}, user="clerk_shagou")
    assert refused.status_code == 403
    fixed = post(world, "k-2", {"process_key": KEY, "data": dict(CASE_FACTS, unit="沙沟镇")}, user="clerk_shagou")
    assert fixed.status_code == 201 and cases(world) == 1


def test_a_key_is_kept_a_day(world):
    first = post(world, "daily").get_json()["id"]
    age_keys(world, timedelta(hours=25))
    assert post(world, "daily").get_json()["id"] != first and cases(world) == 2


def test_a_request_that_died_after_starting_its_case_is_answered_with_that_case(world):
    """The case was started but the key never recorded it (process killed, database gone): no second case."""
    first = post(world, "lost").get_json()["id"]
    age_keys(world, timedelta(0), status="pending", case_id=None)
    assert post(world, "lost").status_code == 409  # maybe still running: try again later
    age_keys(world, STALE * 2)
    again = post(world, "lost")
    assert again.status_code == 201 and again.get_json()["id"] == first and cases(world) == 1


def test_a_request_that_died_before_starting_is_taken_over(world):
    with world["engine"].db.transaction() as session:
        from engine.idempotency import fingerprint

        session.add(IdempotencyKey(username="organization", key="orphan", status="pending",
                                   request_hash=fingerprint(KEY, BODY["data"]),
                                   created_at=world["engine"].clock() - STALE * 2))
    response = post(world, "orphan")
    assert response.status_code == 201 and cases(world) == 1
    assert post(world, "orphan").get_json() == response.get_json()


def _race(world, n=8):
    barrier, answers = threading.Barrier(n), []

    def one():
        barrier.wait()
        response = post(world, "race-1")
        answers.append((response.status_code, (response.get_json() or {}).get("id")))

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def _assert_one_case(world, answers):
    statuses = [status for status, _id in answers]
    assert cases(world) == 1, answers
    assert set(statuses) <= {201, 409} and 201 in statuses, answers  # 409: the first is still running
    assert len({case_id for status, case_id in answers if status == 201}) == 1, answers


def test_racing_identical_requests_start_one_case(world):
    _assert_one_case(world, _race(world))


def test_racing_identical_requests_start_one_case_on_postgres(pg_url):
    world = _world(pg_url)
    _assert_one_case(world, _race(world))

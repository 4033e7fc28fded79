"""Console passwords: the 等保 level 3 policy, argon2id hashes, and ``opscenter users set-password``."""

import pytest
from sqlmodel import select

from opscenter.auth import passwords
from opscenter.auth.models import Password
from opscenter.db import Database
from opscenter.settings import Settings
from tests.console.people import Person
from tests.factories import World
from tests.opscenter.test_cli import opscenter
from tests.support import RunningServer


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short-1a", "至少 12 个字符"),
        ("alllowercaseletters", "至少三类"),
        ("ALLUPPER12345", "至少三类"),
        ("Ma-li.na-2026", "不得包含用户名"),
        ("Ma-AN.IL-2026", "不得包含用户名"),  # backwards, in any case
    ],
)
def test_a_password_that_breaks_the_policy_is_refused_saying_why(password: str, problem: str) -> None:
    assert any(problem in found for found in passwords.policy_problems(password, user_name="li.na"))


@pytest.mark.parametrize("password", ["Kq7-river-Lamp", "kq7riverlampX", "长城-harbor-2026!"])
def test_twelve_characters_of_three_kinds_without_the_name_pass(password: str) -> None:
    assert passwords.policy_problems(password, user_name="li.na") == []


def test_set_password_stores_an_argon2id_hash_and_the_person_must_change_it(
    settings: Settings, world: World, db: Database, server: RunningServer
) -> None:
    done = opscenter(settings, "users", "set-password", "--name", "li.na", "--password", "Kq7-river-Lamp")
    assert done.returncode == 0, done.stderr
    assert "choose their own at the next login" in done.stderr
    with db.transaction(write=False) as session:
        stored = session.exec(select(Password)).one()
    assert stored.password_hash.startswith("$argon2id$")
    assert stored.must_change
    person = Person(server.base_url)
    try:
        assert person.log_in("li.na", "Kq7-river-Lamp").headers["location"] == "/console/password"
    finally:
        person.close()
    weak = opscenter(settings, "users", "set-password", "--name", "li.na", "--password", "li.na")
    assert weak.returncode != 0
    assert "至少 12 个字符" in weak.stderr

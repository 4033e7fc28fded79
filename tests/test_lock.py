"""The lock (requirements/*.txt, tests/lock.py) installs what pyproject.toml asks for, at the versions it pins."""

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.lock import FOLDER, LOCKS, PYPROJECT, asked, normalized, pins, pyproject_digest, recorded_digest


@pytest.mark.parametrize("name", list(LOCKS))
def test_the_lock_was_regenerated_after_the_last_change_to_pyprojects_dependencies(name: str) -> None:
    lock = FOLDER / f"{name}.txt"
    assert lock.exists(), f"{lock} is missing: run scripts/lock"
    assert recorded_digest(lock) == pyproject_digest(), (
        f"pyproject.toml's dependencies changed since {lock.name} was made: run scripts/lock and commit requirements/"
    )


@pytest.mark.parametrize("name", list(LOCKS))
def test_each_lock_pins_every_requirement_of_its_extras_within_its_range(name: str) -> None:
    wanted = asked()
    requirements = [*wanted["dependencies"], *wanted["build-system"]]  # type: ignore[misc]
    for extra in LOCKS[name]:
        requirements += wanted["optional-dependencies"][extra]  # type: ignore[index]
    pinned = pins(FOLDER / f"{name}.txt")
    for text in requirements:
        requirement = Requirement(text)
        version = pinned.get(normalized(requirement.name))
        assert version is not None, f"{name}.txt does not pin {requirement.name}"
        assert requirement.specifier.contains(version, prereleases=True), f"{name}.txt: {requirement.name}=={version}"


def test_the_locks_agree_and_each_holds_the_smaller_one() -> None:
    main, dev, bench = (pins(FOLDER / f"{name}.txt") for name in ("main", "dev", "bench"))
    assert main.items() <= dev.items() <= bench.items()


def test_a_changed_dependency_changes_the_digest(tmp_path: Path) -> None:
    changed = tmp_path / "pyproject.toml"
    changed.write_text(PYPROJECT.read_text().replace('"click>=8.1,<9"', '"click>=8.2,<9"'))
    assert changed.read_text() != PYPROJECT.read_text()
    assert pyproject_digest(changed) != pyproject_digest()

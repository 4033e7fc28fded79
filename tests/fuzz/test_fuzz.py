"""Every operation of the OpenAPI document, fuzzed by Schemathesis as each role against a seeded world.

Zero findings is the bar: no server error, every answer as documented (status, content type, headers,
schema), schema-invalid input refused, schema-valid input accepted or refused for a documented reason,
authentication enforced, deleted objects gone. Each role fuzzes the operations its role is admitted to (the
permission table already proves every other one answers 403). The budget is bounded in the test command
(``DAILY``: examples, fuzzing and stateful phases, a fixed seed per database so a failure reproduces and the two
runs try different inputs); ``--fuzz-nightly``
(or OPSCENTER_FUZZ_NIGHTLY=1) adds the coverage phase (every schema's edges, systematically) with many more
examples and a random seed.

A missing Schemathesis fails this module at import: it is a dev dependency, never an optional one.
"""

import time

import pytest
import schemathesis

from opscenter.app import create_app
from opscenter.identity.guards import admitted_roles
from opscenter.identity.models import Role
from opscenter.openapi import operations
from opscenter.settings import Settings
from tests.conftest import ApiFactory
from tests.factories import World
from tests.fuzz.harness import DAILY, DAILY_SEEDS, NIGHTLY, Budget, fuzz
from tests.fuzz.seeds import SEEDS, Known
from tests.support import RunningServer

assert schemathesis.__version__.startswith("4."), "the fuzz harness is written for Schemathesis 4.x"


@pytest.fixture(scope="module")
def admitted(settings: Settings) -> dict[tuple[str, str], frozenset[Role] | None]:
    """Each documented operation → the roles it admits (None: public, no key needed)."""
    app = create_app(settings)
    return {(method, path): admitted_roles(handler) for method, path, handler, _ in operations(app)}


@pytest.fixture
def budget(request: pytest.FixtureRequest, backend: str) -> Budget:
    nightly = bool(request.config.getoption("--fuzz-nightly"))
    examples = request.config.getoption("--fuzz-examples") or (NIGHTLY if nightly else DAILY).examples
    return Budget(
        examples=examples,
        stateful_steps=max(DAILY.stateful_steps, examples // 5),
        seed=None if nightly else DAILY_SEEDS[backend],
        coverage=nightly,
    )


def seeded(api: ApiFactory, world: World) -> Known:
    known: Known = {}
    for seed in SEEDS:
        for name, values in seed(api, world).items():
            known.setdefault(name, []).extend(values)
    return known


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_every_operation_holds_under_fuzzing(
    role: Role,
    world: World,
    api: ApiFactory,
    server: RunningServer,
    admitted: dict[tuple[str, str], frozenset[Role] | None],
    budget: Budget,
) -> None:
    known = seeded(api, world)
    mine = {operation for operation, roles in admitted.items() if roles is None or role in roles}
    started = time.monotonic()
    findings, requests = fuzz(
        document_url=f"{server.base_url}/schema/openapi.json",
        base_url=server.base_url,
        key=world.by_role(role).key,
        operations=mine,
        known=known,
        budget=budget,
    )
    elapsed = time.monotonic() - started
    print(f"fuzz as {role.value}: {len(mine)} operations, {requests} requests in {elapsed:.1f} s")  # noqa: T201
    assert not findings, f"{len(findings)} finding(s) as {role.value}:\n" + "\n".join(map(str, findings))

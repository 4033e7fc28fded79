from tests.conftest import ApiFactory
from tests.factories import World


def test_a_department_sees_only_its_own_organization(world: World, api: ApiFactory) -> None:
    department = api.as_(world.department)
    listed = department.get("/api/v1/organizations", params={"count": "true"}).json()
    assert [org["id"] for org in listed["items"]] == [str(world.department.organization_id)]
    assert listed["total"] == 1

    foreign = department.get(f"/api/v1/organizations/{world.department_b.organization_id}")
    missing = department.get("/api/v1/organizations/01a21ce5-662f-7bdf-87f6-32407b9e9fef")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content, "another department's object must look exactly like a missing one"


def test_the_bureau_and_the_operator_see_every_organization(world: World, api: ApiFactory) -> None:
    for who in (world.bureau, world.operator, world.auditor):
        assert api.as_(who).get("/api/v1/organizations", params={"count": "true"}).json()["total"] == 4


def test_a_role_must_fit_its_organizations_kind(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    for role in ("admin", "bureau", "operator"):
        refused = admin.post(
            "/api/v1/users",
            {"name": f"x.{role}", "role": role, "organization_id": str(world.department.organization_id)},
        )
        assert refused.status_code == 422, role
        assert refused.json()["errors"][0]["field"] == "role"
    auditor = admin.post(
        "/api/v1/users",
        {"name": "dept.auditor", "role": "auditor", "organization_id": str(world.department.organization_id)},
    )
    assert auditor.status_code == 201, "an auditor fits any organization"


def test_a_login_name_is_lowercase_letters_digits_and_dots(world: World, api: ApiFactory) -> None:
    response = api.as_(world.admin).post(
        "/api/v1/users",
        {"name": "Zhang Wei", "role": "department", "organization_id": str(world.department.organization_id)},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"


def test_user_and_organization_names_are_unique(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    duplicate_user = admin.post(
        "/api/v1/users",
        {"name": "chen.jie", "role": "department", "organization_id": str(world.department.organization_id)},
    )
    assert duplicate_user.status_code == 409
    assert duplicate_user.json()["errors"] == [{"field": "name", "message": "already taken"}]
    duplicate_org = admin.post("/api/v1/organizations", {"name": "市公安局", "kind": "department"})
    assert duplicate_org.status_code == 409


def test_the_last_active_admin_cannot_be_deactivated(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    path = f"/api/v1/users/{world.admin.user_id}"
    refused = admin.patch(path, {"is_active": False}, headers={"If-Match": admin.get(path).headers["ETag"]})
    assert refused.status_code == 409
    assert admin.get("/api/v1/me").status_code == 200


def test_renaming_an_organization_bumps_its_version_and_etag(world: World, api: ApiFactory) -> None:
    admin = api.as_(world.admin)
    path = f"/api/v1/organizations/{world.department.organization_id}"
    read = admin.get(path)
    assert read.headers["ETag"] == '"1"'
    renamed = admin.patch(path, {"name": "市卫生健康委"}, headers={"If-Match": read.headers["ETag"]})
    assert renamed.status_code == 200
    assert renamed.headers["ETag"] == '"2"'
    assert renamed.json() == admin.get(path).json()
    assert renamed.json()["name"] == "市卫生健康委"

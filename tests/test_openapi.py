"""The OpenAPI document: a committed snapshot, and the promises every operation's entry keeps."""

import difflib

from tests.openapi_snapshot import SNAPSHOT, current_document, render
from tests.permissions import PUBLIC_PATHS

REGENERATE = ".venv/bin/python -m tests.openapi_snapshot"


def test_the_document_matches_the_committed_snapshot() -> None:
    current, committed = render(current_document()), SNAPSHOT.read_text(encoding="utf-8")
    if current != committed:
        diff = "".join(
            list(difflib.unified_diff(committed.splitlines(True), current.splitlines(True), "committed", "current"))[
                :200
            ]
        )
        raise AssertionError(f"the OpenAPI document changed; if on purpose, run `{REGENERATE}` and commit:\n{diff}")


def test_every_error_answer_is_a_problem_with_an_example() -> None:
    document = current_document()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if not 400 <= int(status) < 500:  # (/ready's 503 is its own JSON, not a problem)
                    continue
                media = response["content"]["application/problem+json"]
                assert media["schema"] == {"$ref": "#/components/schemas/Problem"}, (method, path, status)
                assert media["example"]["status"] == int(status), (method, path, status)


def test_operations_declare_the_errors_their_handlers_can_give() -> None:
    document = current_document()
    for path, item in document["paths"].items():
        public = any(path == prefix or path.startswith(prefix + "/") for prefix in PUBLIC_PATHS)
        for method, operation in item.items():
            statuses = set(operation["responses"])
            names = {parameter["name"] for parameter in operation.get("parameters", [])}
            where = f"{method.upper()} {path}"
            if public:  # no key needed: no requirement, or an empty one among the credentials it also takes
                assert operation["security"] == [] or {} in operation["security"], where
                continue
            assert {"401", "403"} <= statuses, where
            if "{" in path:
                assert "404" in statuses, where
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= statuses, where
            if "If-Match" in names:
                if_match = next(p for p in operation["parameters"] if p["name"] == "If-Match")
                # Required for an action on a versioned object (428 without); optional where a PUT creates.
                assert {"412", "428"} <= statuses if if_match["required"] else "412" in statuses, where
            if method in ("post", "put", "patch", "delete"):
                assert "409" in statuses, where


def test_decimal_strings_are_documented_as_strings_with_a_pattern() -> None:
    schemas = current_document()["components"]["schemas"]
    for name, field in [
        ("CatalogServiceCreate", "list_price"),
        ("BudgetPublic", "remaining"),
        ("ContractTerms", "availability_target"),
        ("RatingTier", "coefficient"),
    ]:
        schema = schemas[name]["properties"][field]
        assert schema["type"] == "string", (name, field)
        assert schema["pattern"].startswith("^"), (name, field)
        assert "[0-9]" in schema["pattern"], (name, field)


def test_list_limits_are_bounded_by_the_page_size() -> None:
    document = current_document()
    limit = next(p for p in document["paths"]["/api/v1/users"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["oneOf"][0]["maximum"] == 200


def test_the_policy_for_400_and_422_is_stated() -> None:
    assert "**400 or 422.**" in current_document()["info"]["description"]

"""The OpenAPI document tells the truth: every operation's error answers, inferred in one place.

Litestar documents what a handler returns when all goes well. ``describe_errors(app, settings)`` adds, once, when
the document is first built, what each operation can answer otherwise, inferred from its handler:

| the handler …                                   | answers                       |
|-------------------------------------------------|-------------------------------|
| needs a key (not public)                        | 401, 403                      |
| has a path parameter (an object's id)           | 404                           |
| any (a query parameter it does not take)        | 400                           |
| takes a body (``data``)                         | 413, 422; 415 for a JSON body |
| takes ``expected_version`` (If-Match)           | 412, 428; If-Match required   |
| writes (POST, PUT, PATCH, DELETE)               | 409                           |
| any                                             | 429, with its headers         |

each as ``application/problem+json`` with the one ``Problem`` schema and an example. It also states what
Litestar leaves out: every 201 carries ``Location`` (the new object's URL), an optional body is optional, a
request body refuses unknown fields (``additionalProperties: false``), ``limit`` is bounded by the page size
maximum, public operations need no key, and links lead from an object's answers to its next operations (with its id
and ETag). The roles each operation admits are added beside its guards (``opscenter.identity.guards.document_roles``);
the wiring runs both. A new domain gets all of it by using the house decorators; ``tests/openapi.json`` is the
snapshot every change of the document shows up in.
"""

import re
from collections.abc import Iterator
from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from opscenter.errors import INPUT_POLICY, MAX_LISTED_ERRORS, PROBLEM_JSON, UNAUTHENTICATED_DETAIL
from opscenter.schemas import INT_MAX, INT_MIN, StrictInput
from opscenter.settings import Settings
from opscenter.web import IF_MATCH_PATTERN

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_ERRORS: dict[int, tuple[str, str, str, list[dict[str, str]]]] = {
    # status: (when, problem code, example detail, example field errors)
    400: (
        "A parameter of the wrong form or out of its bounds, one the operation does not take or given twice, or a "
        "body that is not JSON.",
        "invalid-input",
        "limit: must be at most 200",
        [{"field": "limit", "message": "must be at most 200"}],
    ),
    401: ("No valid API key.", "unauthenticated", UNAUTHENTICATED_DETAIL, []),
    403: ("The caller's role may not do this.", "forbidden", "Your role may not use this route.", []),
    404: ("No such object, or one the caller may not see.", "not-found", "No contract with this id.", []),
    409: (
        "The current state of things refuses the request.",
        "conflict",
        "Only a draft purchase request can be submitted; this one is approved.",
        [],
    ),
    412: (
        "If-Match names a version that is no longer current.",
        "stale-version",
        "The object is at version 4, not 3; fetch it again and retry.",
        [],
    ),
    413: ("The body is larger than the server accepts.", "payload-too-large", "The request body is too large.", []),
    415: (
        "The body is sent as another media type than the operation reads (JSON sent as text/plain).",
        "unsupported-media-type",
        "The body is sent as 'text/plain'; this operation reads JSON: send it with Content-Type: application/json.",
        [],
    ),
    422: (
        "The body breaks the operation's schema or a rule; each field is named.",
        "invalid-input",
        "items.0.quantity: Input should be a valid integer",
        [{"field": "items.0.quantity", "message": "Input should be a valid integer"}],
    ),
    429: (
        "Past a rate limit: this credential's (or, without one, this client address's) requests of the route's "
        "class in the window, or this address's refused credentials. Retry after `Retry-After` seconds.",
        "rate-limited",
        "Too many requests: the writes of this credential are limited to 300 per 60 s; retry in 41 s.",
        [],
    ),
    428: (
        "The action needs If-Match with the object's ETag.",
        "version-required",
        'This action needs If-Match with the ETag of the object as you last read it, e.g. If-Match: "3".',
        [],
    ),
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem. `errors` names each offending field or parameter.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "urn:opscenter:problem:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "error_count": {
            "type": "integer",
            "description": f"How many problems were found, when there were more than `errors` lists (its first "
            f"{MAX_LISTED_ERRORS})",
        },
    },
}


def describe_errors(app: Litestar, settings: Settings) -> None:
    """Make ``app``'s OpenAPI document state every operation's error answers (see the module doc).

    Builds the document now (Litestar caches it, and serves the cached one) and completes it in place.
    """
    _describe(app.plugins.get(OpenAPIPlugin).provide_openapi_schema(), app, settings)


def openapi_document(app: Litestar) -> dict[str, Any]:
    """The document as ``/schema/openapi.json`` serves it."""
    return app.plugins.get(OpenAPIPlugin).provide_openapi_schema()


def operations(app: Litestar) -> Iterator[tuple[str, str, HTTPRouteHandler, HTTPRoute]]:
    """Every documented operation: (METHOD, path as the document writes it, handler, route)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                yield method, route.path_format or "/", handler, route


def _describe(document: dict[str, Any], app: Litestar, settings: Settings) -> None:
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    info = document.setdefault("info", {})
    info["description"] = f"{info.get('description', '')}\n\n{INPUT_POLICY}\n\n{RATE_LIMIT_POLICY}".strip()
    _forbid_unknown_fields(document["components"]["schemas"])
    for method, path, handler, route in operations(app):
        operation = document["paths"][path][method.lower()]
        _describe_operation(operation, method, handler, route, settings)
    _link(document["paths"])


_ID = re.compile(r"^\{(\w+)\}$")


def _link(paths: dict[str, Any]) -> None:
    """OpenAPI links from an object's answers to what can be done with it next.

    A create (``POST /things``, 201) links to every operation on ``/things/{thing_id}`` and its actions, and a
    read (``GET /things/{thing_id}``, 200) to every change of it; each link passes the object's id and, as
    If-Match, the ETag just received. Clients (and the fuzzer's stateful phase) follow them.
    """
    for path, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if created is not None and not _ID.match(path.rsplit("/", 1)[-1]):
            for name in _object_ids(paths, path):
                _add_links(created, paths, f"{path}/{{{name}}}", name, "$response.body#/id", reads=True)
        read = item.get("get", {}).get("responses", {}).get("200")
        if read is not None and (match := _ID.match(path.rsplit("/", 1)[-1])):
            name = match.group(1)
            _add_links(read, paths, path, name, f"$request.path.{name}", reads=False)


def _object_ids(paths: dict[str, Any], collection: str) -> set[str]:
    """The path parameters that name one object of ``collection``: ``/things/{thing_id}`` → {"thing_id"}."""
    names = set()
    for path in paths:
        if path.startswith(collection + "/") and (match := _ID.match(path.removeprefix(collection + "/"))):
            names.add(match.group(1))
    return names


def _add_links(
    response: dict[str, Any], paths: dict[str, Any], object_path: str, name: str, value: str, *, reads: bool
) -> None:
    links: dict[str, Any] = {}
    for path, item in paths.items():
        rest = path.removeprefix(object_path)
        if not path.startswith(object_path) or (rest and (not rest.startswith("/") or "{" in rest)):
            continue  # another object, or one that needs a second id
        for method, target in item.items():
            if method == "get" and not reads:
                continue
            parameters = {name: value}
            if any(parameter.get("name") == "If-Match" for parameter in target.get("parameters", [])):
                parameters["header.If-Match"] = "$response.header.ETag"
            links[target["operationId"]] = {"operationId": target["operationId"], "parameters": parameters}
    if links:
        response["links"] = links


PUBLIC_SECURITY = "public_security"
"""``opt={PUBLIC_SECURITY: [{}, {"scheme": []}]}`` on a public route: credentials it takes though it needs none."""
METRICS_SCRAPER_SCHEME = "metricsToken"

ALSO_ANSWERS = "also_answers"
"""``opt={ALSO_ANSWERS: (404,)}`` on a route: error statuses it gives beyond those its signature implies."""
LOCATION = "location"
"""``opt={LOCATION: "…"}`` on a creating route whose new object has no URL of its own: what its ``Location`` names
instead (the object that holds it). Every 201 carries ``Location`` (``opscenter.web.respond``)."""
CREATED_LOCATION = "The new object's URL: a GET of it answers the object as created."
FILE_DOWNLOAD = "file_download"
"""``opt={FILE_DOWNLOAD: (media types…)}`` on a route that answers a file (an export), not JSON."""


def _describe_operation(
    operation: dict[str, Any], method: str, handler: HTTPRouteHandler, route: HTTPRoute, settings: Settings
) -> None:
    signature = handler.parsed_fn_signature.parameters
    dependencies = handler.resolve_dependencies()
    public = bool(handler.opt.get("exclude_from_auth"))
    parameters: list[dict[str, Any]] = operation.get("parameters", [])
    takes_body = "data" in signature
    versioned = "expected_version" in signature
    statuses: set[int] = {429}
    if not public:
        statuses |= {401, 403}
        if method in WRITES:
            statuses.add(409)
    if route.path_parameters:
        statuses.add(404)
    statuses.add(400)  # any operation: a query parameter it does not declare (opscenter.parameters.check_query)
    if takes_body:
        statuses |= {413, 422}
        body = signature["data"]
        if "application/json" in operation.get("requestBody", {}).get("content", {}):
            statuses.add(415)
        if body.has_default or body.is_optional:
            operation.setdefault("requestBody", {})["required"] = False
    if versioned:
        statuses |= {412, 428}
    # What the signature cannot tell: e.g. a rating of an instance the caller does not use is 404, as if absent.
    statuses |= set(handler.opt.get(ALSO_ANSWERS, ()))
    for parameter in parameters:
        if parameter.get("in") == "header" and parameter.get("name") == "If-Match":
            # Required where the handler takes the version; optional where it creates or replaces (a PUT).
            parameter["required"] = versioned
            parameter["schema"] = {"type": "string", "pattern": IF_MATCH_PATTERN}
        elif parameter.get("required"):
            _not_null(parameter["schema"])
        if parameter.get("in") == "query" and parameter.get("name") == "limit" and "page" in dependencies:
            _bound(parameter["schema"], settings.page_size_max)
        if parameter.get("in") == "query":
            _storable_text(parameter.get("schema", {}))
    responses = operation.setdefault("responses", {})
    if media_types := handler.opt.get(FILE_DOWNLOAD):
        file = {"schema": {"type": "string", "format": "binary"}}
        responses["200"] = {
            "description": "The file, as an attachment (Content-Disposition names it)",
            "content": dict.fromkeys(media_types, file),
        }
    if (created := responses.get("201")) is not None:
        created.setdefault("headers", {})["Location"] = {
            "description": handler.opt.get(LOCATION, CREATED_LOCATION),
            "required": True,
            "schema": {"type": "string", "format": "uri-reference"},
        }
    responses.pop("400", None)  # Litestar's own, for its ValidationException shape: replaced below
    for status in sorted(statuses):
        responses[str(status)] = _problem_response(status)
    if public:
        operation["security"] = list(handler.opt.get(PUBLIC_SECURITY, []))
        if "401" in responses:  # a public operation that also takes a credential refuses a wrong one
            responses["401"]["description"] = "A credential was sent and it is not one this operation takes."


def _not_null(schema: dict[str, Any]) -> None:
    """A required parameter's schema without the ``null`` its ``str | None`` annotation adds (a header has no
    null; the handler's None only answers its absence with a clear 400)."""
    options = [option for option in schema.get("oneOf", []) if option.get("type") != "null"]
    if len(options) == 1:
        del schema["oneOf"]
        schema.update(options[0])


def _bound(schema: dict[str, Any], maximum: int) -> None:
    for option in schema.get("oneOf", [schema]):
        if option.get("type") == "integer":
            option["maximum"] = maximum


def _problem_response(status: int) -> dict[str, Any]:
    when, code, detail, errors = _ERRORS[status]
    example: dict[str, Any] = {
        "type": f"urn:opscenter:problem:{code}",
        "title": _TITLES[status],
        "status": status,
        "detail": detail,
    }
    if errors:
        example["errors"] = errors
    response: dict[str, Any] = {
        "description": when,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example}},
    }
    if status == 429:
        response["headers"] = dict(_RATE_LIMIT_HEADERS)
    return response


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
}

RATE_LIMIT_POLICY = """\
**Rate limits.** Every request counts against its API key (without one, its client address) in the class of its
route: `reads` (GET), `writes` (POST, PUT, PATCH, DELETE), `batches` (a ratings batch, a file upload) and `exports`
(a file download), each with its own quota per window (the server's `OPSCENTER_RATE_LIMIT_*` settings). Every answer
says where the caller stands, in the IETF httpapi draft's fields: `RateLimit-Policy: "writes";q=300;w=60` (quota,
window in seconds) and `RateLimit: "writes";r=12;t=41` (remaining, seconds until the window ends). Past the quota
the answer is **429** problem+json with `Retry-After`. Refused credentials (401) count against the client address:
past their limit every request from that address is 429 (policy `"refused"`) until the window ends."""

_RATE_LIMIT_HEADERS: dict[str, Any] = {
    "Retry-After": {"description": "Seconds until a request may succeed", "schema": {"type": "integer"}},
    "RateLimit-Policy": {
        "description": 'The quota and window of the class: `"writes";q=300;w=60`',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What remains of it and when it resets: `"writes";r=0;t=41`',
        "schema": {"type": "string"},
    },
}


# What StrictInput enforces of text and dates, as patterns: no NUL in text; a date inside 1970-01-01…2999-12-31.
STORABLE_TEXT_PATTERN = "^[^\\u0000]*$"
DATE_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _forbid_unknown_fields(schemas: dict[str, Any]) -> None:
    """Request body models refuse unknown fields, integers beyond a column, text with NUL and dates outside the
    calendar; their schemas say so."""
    strict = {model.__name__: model for model in _subclasses(StrictInput)}
    for name, schema in schemas.items():
        if name in strict and schema.get("type") == "object":
            schema["additionalProperties"] = False
            # A field the model reads loosely and checks itself (a batch's items) keeps the schema it is held to.
            for field_name, documented in getattr(strict[name], "openapi_properties", {}).items():
                schema.get("properties", {}).get(field_name, {}).update(documented)
            for field in schema.get("properties", {}).values():
                for option in field.get("oneOf", [field]):
                    if option.get("type") == "integer":
                        option.setdefault("minimum", INT_MIN)
                        option.setdefault("maximum", INT_MAX)
                    elif option.get("type") == "string" and "enum" not in option and "const" not in option:
                        if option.get("format") == "date":
                            option.setdefault("pattern", DATE_PATTERN)
                        elif "format" not in option:
                            option.setdefault("pattern", STORABLE_TEXT_PATTERN)


def _storable_text(schema: dict[str, Any]) -> None:
    """A free-text query parameter refuses NUL (``opscenter.parameters.harden``); its schema says so."""
    for option in schema.get("oneOf", [schema]):
        if option.get("type") == "string" and not {"enum", "const", "format", "pattern"} & option.keys():
            option["pattern"] = STORABLE_TEXT_PATTERN


def _subclasses(cls: type) -> Iterator[type]:
    subclass: type
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)

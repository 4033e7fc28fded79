"""Static files, served by OpsCenter itself under ``/static``: government intranets (政务外网) have no internet, so no
page may load anything from elsewhere. ``static/vendor/`` is written only by ``scripts/vendor.py`` (pinned npm
packages, integrity-checked; SHA256SUMS beside them)."""

from pathlib import Path
from typing import Any

from litestar import Request
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    RapidocRenderPlugin,
    RedocRenderPlugin,
    StoplightRenderPlugin,
    SwaggerRenderPlugin,
    YamlRenderPlugin,
)
from litestar.router import Router
from litestar.static_files import create_static_files_router

STATIC_DIRECTORY = Path(__file__).parent / "static"
STATIC_PATH = "/static"
VENDOR = f"{STATIC_PATH}/vendor"
FAVICON = f"<link rel='icon' type='image/svg+xml' href='{STATIC_PATH}/favicon.svg'>"
# The documentation pages' style and bootstrap as files, not inline: the Content-Security-Policy of every page
# (opscenter/headers.py) allows no inline script, these pages' included.
DOCS_STYLE = f"<link rel='stylesheet' href='{STATIC_PATH}/console/apidocs.css'>"
DOCS_BOOTSTRAP = f"<script src='{STATIC_PATH}/console/apidocs.js' defer></script>"


def static_files() -> Router:
    """``/static``: public (a login page needs its styles), cached for a day by browsers and proxies."""
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIRECTORY],
        cache_control=CacheControlHeader(public=True, max_age=86_400),
        include_in_schema=False,
        name="static",
    )


class _RapidocWithoutFonts(RapidocRenderPlugin):
    """RapiDoc loads its Open Sans from fonts.gstatic.com unless told not to."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, openapi_schema).replace(b"<rapi-doc ", b'<rapi-doc load-fonts="false" ', 1)


def _page(request: Request[Any, Any, Any], title: str, head: str, body: str) -> bytes:
    spec_url = OpenAPIRenderPlugin.get_openapi_json_route(request)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{FAVICON}<meta charset='utf-8'/>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>{DOCS_STYLE}{head}{DOCS_BOOTSTRAP}"
        f"</head><body>{body.format(spec_url=spec_url)}</body></html>"
    ).encode()


class _SwaggerFromFile(SwaggerRenderPlugin):
    """Swagger UI started by ``apidocs.js``, which loads the document from ``/schema/openapi.json`` (Litestar's
    page inlines both the bootstrap and the document)."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        head = (
            f"<link href='{self.css_url}' rel='stylesheet'><script src='{self.js_url}'></script>"
            f"<script src='{self.standalone_preset_js_url}'></script>"
        )
        title = str(openapi_schema["info"]["title"])
        return _page(request, title, head, "<div id='swagger-container' data-spec-url='{spec_url}'></div>")


class _RedocFromFile(RedocRenderPlugin):
    """ReDoc started by ``apidocs.js`` (as ``_SwaggerFromFile``)."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = str(openapi_schema["info"]["title"])
        return _page(
            request,
            title,
            f"<script src='{self.js_url}'></script>",
            "<div id='redoc-container' data-spec-url='{spec_url}'></div>",
        )


def api_documentation() -> list[OpenAPIRenderPlugin]:
    """The pages under ``/schema`` (ReDoc at the root, Swagger UI, Stoplight Elements, RapiDoc) and the document
    itself as JSON and YAML, every script and style from the vendored files."""
    return [
        JsonRenderPlugin(),
        YamlRenderPlugin(path=["/openapi.yaml", "/openapi.yml"]),
        _RedocFromFile(
            path=["/", "/redoc"], js_url=f"{VENDOR}/redoc/redoc.standalone.js", google_fonts=False, favicon=FAVICON
        ),
        _SwaggerFromFile(
            js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
            standalone_preset_js_url=f"{VENDOR}/swagger-ui/swagger-ui-standalone-preset.js",
            favicon=FAVICON,
        ),
        StoplightRenderPlugin(
            js_url=f"{VENDOR}/elements/web-components.min.js",
            css_url=f"{VENDOR}/elements/styles.min.css",
            favicon=FAVICON,
            style=DOCS_STYLE,
        ),
        _RapidocWithoutFonts(js_url=f"{VENDOR}/rapidoc/rapidoc-min.js", favicon=FAVICON, style=DOCS_STYLE),
    ]

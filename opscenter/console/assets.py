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


def api_documentation() -> list[OpenAPIRenderPlugin]:
    """The pages under ``/schema`` (ReDoc at the root, Swagger UI, Stoplight Elements, RapiDoc) and the document
    itself as JSON and YAML, every script and style from the vendored files."""
    return [
        JsonRenderPlugin(),
        YamlRenderPlugin(path=["/openapi.yaml", "/openapi.yml"]),
        RedocRenderPlugin(
            path=["/", "/redoc"], js_url=f"{VENDOR}/redoc/redoc.standalone.js", google_fonts=False, favicon=FAVICON
        ),
        SwaggerRenderPlugin(
            js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
            standalone_preset_js_url=f"{VENDOR}/swagger-ui/swagger-ui-standalone-preset.js",
            favicon=FAVICON,
        ),
        StoplightRenderPlugin(
            js_url=f"{VENDOR}/elements/web-components.min.js",
            css_url=f"{VENDOR}/elements/styles.min.css",
            favicon=FAVICON,
        ),
        _RapidocWithoutFonts(js_url=f"{VENDOR}/rapidoc/rapidoc-min.js", favicon=FAVICON),
    ]

"""The console's template engine: Jinja, on Litestar's template support, over the shell's templates and those
beside each domain's ``pages.py``; autoescaped; the figure and time filters of ``opscenter.pages``."""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from opscenter.console.navigation import navigation_for
from opscenter.pages import FILTERS, can

SHELL_TEMPLATES = Path(__file__).parent / "templates"


def template_config(domain_template_folders: list[Path]) -> TemplateConfig[JinjaTemplateEngine]:
    """Templates are looked up by name in the shell's folder first, then in each domain's (``purchasing/…``)."""
    environment = Environment(
        loader=FileSystemLoader([SHELL_TEMPLATES, *domain_template_folders]),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(FILTERS)
    environment.globals.update(navigation_for=navigation_for, can=can)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))

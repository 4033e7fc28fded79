"""One name for what feeds /metrics: ``figures.py`` in a package reads its figures from the database when
/metrics is scraped; every prometheus-client object that code sets as things happen is in monitoring/metrics.py."""

from pathlib import Path

from opscenter.audit import figures as audit_figures
from opscenter.calendar import figures as calendar_figures
from opscenter.notifications import figures as notification_figures
from opscenter.plugin import FIGURE_SOURCES, PROCESS_FIGURE_SOURCES

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGES = ("opscenter", "contracts", "operations", "sla", "billing")


def test_every_figure_source_is_the_figures_function_of_a_figures_module() -> None:
    for source in [*FIGURE_SOURCES, *PROCESS_FIGURE_SOURCES]:
        assert (source.__module__.rpartition(".")[2], source.__name__) == ("figures", "figures"), source


def test_no_package_but_monitoring_has_a_metrics_module() -> None:
    found = [str(path.relative_to(ROOT)) for package in PACKAGES for path in (ROOT / package).rglob("metrics.py")]
    assert found == [], "figures read when scraped go in figures.py; prometheus-client objects in monitoring/metrics.py"


def test_every_packages_figures_are_reported_and_the_audit_backlog_to_any_scraper() -> None:
    modules = {path for package in PACKAGES for path in (ROOT / package).rglob("figures.py")}
    sources = [*FIGURE_SOURCES, *PROCESS_FIGURE_SOURCES]
    reported = {ROOT / (source.__module__.replace(".", "/") + ".py") for source in sources}
    assert reported == modules, "a figures.py nobody reports, or a source outside one"
    assert len(sources) == len(set(sources))
    own = [audit_figures.figures, calendar_figures.figures, notification_figures.figures]
    assert own == PROCESS_FIGURE_SOURCES, "the house's own figures (audit, calendar, deliveries), open to any scraper"

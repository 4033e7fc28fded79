from tests.permissions import assets, billing, calendar, console, contracts, core, notifications, ratings, sla, tickets
from tests.permissions.table import Row

# Every route of the app, once. A new domain adds its module here.
ROWS: list[Row] = [
    *core.ROWS,
    *contracts.ROWS,
    *ratings.ROWS,
    *assets.ROWS,
    *calendar.ROWS,
    *sla.ROWS,
    *tickets.ROWS,
    *billing.ROWS,
    *console.ROWS,
    *notifications.ROWS,
]

# The paths anyone may use without a key (operations endpoints, the API's documentation, the console's login page and
# the root that leads to it); every other path needs one (or, under /console, a person's session).
PUBLIC_PATHS = ("/health", "/ready", "/metrics", "/schema", "/static", "/console/login", "/")

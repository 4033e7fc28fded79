"""Exit 0 when the test PostgreSQL answers, 1 (saying why) when it does not. Used by scripts/test."""

import sys

import psycopg
from sqlalchemy.engine import make_url

from tests.support import postgres_admin_url


def main() -> int:
    url = make_url(postgres_admin_url()).set(drivername="postgresql")
    try:
        with psycopg.connect(url.render_as_string(hide_password=False), connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        sys.stderr.write(f"PostgreSQL at {url.render_as_string()} is unreachable: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

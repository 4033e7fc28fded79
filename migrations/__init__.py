"""Alembic migrations of the OpsCenter schema. Run them with ``opscenter db upgrade``.

``MIGRATIONS`` names them for the rest of the wiring, which hands them to the app (``/ready``) and to every
command (``opscenter.migrate``).
"""

from pathlib import Path

from opscenter.migrate import Migrations

MIGRATIONS = Migrations(Path(__file__).parent)

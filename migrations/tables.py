"""Every table the migrations build, for Alembic (``env.py``) and for the tests that compare the two: importing this
module imports each module of the project that declares a table, so ``metadata`` is complete whatever was imported
before. A new models module is added here; ``tests/test_migrations.py`` fails until it is."""

# ruff: noqa: F401  (imported for the tables they declare)

from sqlmodel import SQLModel

import billing.statements.credit_notes.models
import billing.statements.disputes.models
import billing.statements.models
import contracts.agreements.models
import contracts.budgets.models
import contracts.catalog.models
import contracts.instances.models
import contracts.purchasing.models
import operations.assets.handover.models
import operations.assets.register.models
import operations.tickets.models
import opscenter.audit.models
import opscenter.auth.models
import opscenter.calendar.models
import opscenter.idempotency.models
import opscenter.identity.models
import opscenter.job_runs
import opscenter.notifications.delivery_models
import opscenter.notifications.models
import opscenter.pagination
import sla.maintenance.models
import sla.measurements.models
import sla.ratings.models
import sla.reports.models

metadata = SQLModel.metadata

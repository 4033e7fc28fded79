"""Idempotency keys: any POST can be retried safely.

A client sends ``Idempotency-Key: <unique string>`` with a POST. The first request with a key runs and
its answer (status, body, and the headers it set, e.g. ``ETag`` and ``Location``) is stored in the same
transaction as the change it made. A later request with the same key and the same request gets that
stored answer back, byte for byte, and writes nothing; the same key with another request is refused
(422). Keys belong to the caller's organization and are kept at least 24 hours, then purged by the
``idempotency.purge`` job.

Concurrent duplicates: the first request claims the key with an insert on the unique
``(organization_id, key)``; a duplicate's insert waits on that index until the first commits (PostgreSQL),
or its write transaction waits for the first to finish (SQLite), then finds the stored answer and replays
it. If the first fails, nothing of it is kept (the key neither), and the duplicate runs as if it were first.

A handler opts in with the house decorator :func:`opscenter.idempotency.web.idempotent_post` and one
parameter, ``idempotency_key: IdempotencyKey``::

    @idempotent_post("/", guards=[allow(Role.DEPARTMENT)])
    def create(self, session: DbSession, actor: CurrentActor, data: JSONBody[RatingIn],
               idempotency_key: IdempotencyKey) -> Response[RatingPublic]:
        rating = RatingPublic.model_validate(service.rate(session, data, actor=actor))
        return respond(rating, created=f"/api/v1/ratings/{rating.id}")
"""

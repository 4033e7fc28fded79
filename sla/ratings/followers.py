"""Who follows the ratings: the domains above this one that bill a month by its ratings (billing's statements).

Ratings sit below billing (layers: … < sla < billing) and never import it. The wiring registers each follower
once; every write of ratings (one, a batch, a revision) runs inside ``followed``, so a follower may lock what it
holds before the ratings' month is locked, and act after the ratings are written, in the same transaction. A write
that fails runs no follower's second half.
"""

import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

from sqlmodel import Session

from opscenter.identity.actor import Actor

RatedMonth = tuple[uuid.UUID, str]
"""(service instance id, period ``YYYY-MM``) whose ratings a write changes."""

Follower = Callable[..., AbstractContextManager[None]]
"""Called as ``follower(session, rated, actor=actor)``; a context manager around the write."""

_followers: list[Follower] = []


def follow(follower: Follower) -> None:
    """Register ``follower`` (once, however often the wiring runs)."""
    if follower not in _followers:
        _followers.append(follower)


@contextmanager
def followed(session: Session, rated: Collection[RatedMonth], *, actor: Actor) -> Iterator[None]:
    with ExitStack() as stack:
        for follower in list(_followers):
            stack.enter_context(follower(session, rated, actor=actor))
        yield

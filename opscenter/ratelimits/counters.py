"""Where the rate-limit counts live: in this process (the embedded default, one API process), or in Redis/Valkey
through Litestar's ``RedisStore`` when ``OPSCENTER_REDIS_URL`` is set, so that a limit holds across every API
process and host.

A window is fixed: it starts with a bucket's first request and lasts ``window`` seconds (Redis ``INCR`` then
``EXPIRE``, the classic counter). Each request costs one step: on Redis one script call (one round trip), which
checks the client address's refused-credential count and counts the request, atomically, so two processes
never both take the last request of a window.
"""

import math
import time
from dataclasses import dataclass
from typing import Protocol

# A process keeps at most this many live buckets; expired ones are dropped first. Buckets are created only for
# addresses not blocked, so a flood of invented keys from one address stops at its refused limit.
MAX_BUCKETS = 200_000
NAMESPACE = "OPSCENTER_RATE_LIMIT"


@dataclass(frozen=True, slots=True)
class Taken:
    """A request counted: its bucket's count in this window (this one included) and the seconds the window has
    left; ``blocked`` when the client address is over its refused-credential limit (nothing was counted then, and
    ``seconds_left`` is that block's)."""

    count: int
    seconds_left: int
    blocked: bool = False


class Counters(Protocol):
    async def take(self, bucket: str, *, window: int, address_refusals: str, refused_limit: int) -> Taken:
        """Count one request against ``bucket`` unless ``address_refusals`` has reached ``refused_limit``."""

    async def refuse(self, address_refusals: str, *, window: int) -> None:
        """Count one refused credential against a client address."""

    async def close(self) -> None: ...


class ProcessCounters:
    """Counts in this process's memory, touched only from the event loop (no await between read and write, so
    no lock is needed)."""

    def __init__(self, *, max_buckets: int = MAX_BUCKETS) -> None:
        self.max_buckets = max_buckets
        self._buckets: dict[str, tuple[int, float]] = {}  # bucket → (count, when its window ends, monotonic)

    async def take(self, bucket: str, *, window: int, address_refusals: str, refused_limit: int) -> Taken:
        now = time.monotonic()
        refusals = self._live(address_refusals, now)
        if refusals is not None and refusals[0] >= refused_limit:
            return Taken(refusals[0], _seconds(refusals[1] - now), blocked=True)
        return self._count(bucket, window, now)

    async def refuse(self, address_refusals: str, *, window: int) -> None:
        self._count(address_refusals, window, time.monotonic())

    async def close(self) -> None:
        self._buckets.clear()

    def _live(self, bucket: str, now: float) -> tuple[int, float] | None:
        entry = self._buckets.get(bucket)
        return entry if entry is not None and entry[1] > now else None

    def _count(self, bucket: str, window: int, now: float) -> Taken:
        entry = self._live(bucket, now)
        count, ends = (entry[0] + 1, entry[1]) if entry is not None else (1, now + window)
        if entry is None and len(self._buckets) >= self.max_buckets:
            self._sweep(now)
        self._buckets[bucket] = (count, ends)
        return Taken(count, _seconds(ends - now))

    def _sweep(self, now: float) -> None:
        self._buckets = {key: entry for key, entry in self._buckets.items() if entry[1] > now}
        while len(self._buckets) >= self.max_buckets:  # all live: the oldest buckets go first
            del self._buckets[next(iter(self._buckets))]


# KEYS[1] the bucket, KEYS[2] the address's refusals; ARGV[1] the window, ARGV[2] the refused limit.
_TAKE = b"""
local refused = tonumber(redis.call('GET', KEYS[2]) or '0')
if refused >= tonumber(ARGV[2]) then
  return {refused, redis.call('TTL', KEYS[2]), 1}
end
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl, 0}
"""
_REFUSE = b"""
local count = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RedisCounters:
    """Counts in Redis (or Valkey), shared by every process that names the same server, under the namespace of a
    Litestar ``RedisStore`` (which owns the connection and closes it)."""

    def __init__(self, url: str) -> None:
        # imported here: the redis client costs an API process ~6 MiB, and most run without Redis
        from litestar.stores.redis import RedisStore
        from redis.asyncio import Redis

        self.redis: Redis = Redis.from_url(url)
        self.store: RedisStore = RedisStore(self.redis, namespace=NAMESPACE, handle_client_shutdown=True)
        self._take = self.redis.register_script(_TAKE)
        self._refuse = self.redis.register_script(_REFUSE)

    def _key(self, bucket: str) -> str:
        return f"{self.store.namespace}:{bucket}"

    async def take(self, bucket: str, *, window: int, address_refusals: str, refused_limit: int) -> Taken:
        count, ttl, blocked = await self._take(
            keys=[self._key(bucket), self._key(address_refusals)], args=[window, refused_limit]
        )
        return Taken(int(count), max(int(ttl), 1), blocked=bool(blocked))

    async def refuse(self, address_refusals: str, *, window: int) -> None:
        await self._refuse(keys=[self._key(address_refusals)], args=[window])

    async def close(self) -> None:
        await self.store.__aexit__(None, None, None)


def _seconds(remaining: float) -> int:
    return max(1, math.ceil(remaining))

"""What wrk sends and what comes back; and the quick check that replaces wrk under ``--requests``."""

import json
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from bench.harness.command import WRK_CPU, Options
from bench.harness.servers import Server, pinned
from tests import loopback

# ---- what wrk sends, and what comes back ----------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One request shape for wrk. ``baseline`` names the figure this one is compared against.

    A ``body`` or header value containing ``{n}`` gets a value unique to each request there (for fields that
    must be unique, an ``Idempotency-Key``), unique across runs too. ``bodies``, when given, are sent in turn, one
    per request (the last one again if the run outlasts them): for bodies that must differ in their content.
    """

    name: str
    path: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    baseline: str | None = None
    bodies: Sequence[str] = ()


@dataclass(frozen=True)
class Figure:
    name: str
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers and socket errors
    rss_mib: float  # the server's resident memory after the run (all its processes)
    cpu_ms: float  # the server's CPU time (user + system) per answered request: steadier than req/s on a busy machine
    requests: int = 0
    baseline: str | None = None


HEALTH = Load("GET /health", "/health")
BARE_INSERT = Load("bare Litestar insert", "/rows", method="POST", body="{}")

_WRK_SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{headers}
-- "{{n}}" in the body or in a header value becomes a value unique to each request (an Idempotency-Key, a
-- number that must be unique); the prefix is new in every run, so no run replays an earlier one's keys.
local prefix, counter = {prefix}, 0
local templated = {{}}
for name, value in pairs(wrk.headers) do
  if string.find(value, "{{n}}", 1, true) then templated[name] = value end
end
local bodies = {{{bodies}}}
local body_template = wrk.body and string.find(wrk.body, "{{n}}", 1, true) and wrk.body or nil
if body_template or #bodies > 0 or next(templated) ~= nil then
  request = function()
    counter = counter + 1
    local n = prefix .. "-" .. counter
    for name, value in pairs(templated) do wrk.headers[name] = (string.gsub(value, "{{n}}", n)) end
    local content = nil
    if #bodies > 0 then content = bodies[math.min(counter, #bodies)]
    elseif body_template then content = (string.gsub(body_template, "{{n}}", n)) end
    return wrk.format(nil, nil, nil, content)
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'FIGURES {{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "non2xx": %d, '
      .. '"socket": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def _lua(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid Lua string literal here


def drive(server: Server, load: Load, run: Options, *, connections: int | None = None) -> Figure:
    """Load ``server`` with wrk (one thread; on ``WRK_CPU`` when pinned) and return what it measured. With
    ``run.requests``, send that many requests from this process instead and fail on any error answer: a check
    that the load works, in a fraction of wrk's shortest run (a second)."""
    if run.requests > 0:
        return _check_load(server, load, run.requests, connections or run.connections)
    headers = "\n".join(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in load.headers.items())
    script = _WRK_SCRIPT.format(
        method=_lua(load.method),
        body=_lua(load.body) if load.body else "nil",
        headers=headers,
        prefix=_lua(uuid.uuid4().hex[:12]),
        bodies=", ".join(_lua(body) for body in load.bodies),
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    cpu_before = server.cpu_seconds()
    seconds = max(run.seconds, 1)
    try:
        command = [*pinned(run.pin, WRK_CPU), "wrk", "-t1", f"-c{connections or run.connections}", f"-d{seconds}s"]
        result = subprocess.run(
            [*command, "--timeout", "30s", "-s", handle.name, server.base_url + load.path],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(handle.name)
    line = next((raw for raw in result.stdout.splitlines() if raw.startswith("FIGURES ")), None)
    if line is None:
        raise RuntimeError(f"wrk said nothing usable:\n{result.stdout}\n{result.stderr}")
    raw = json.loads(line.removeprefix("FIGURES "))
    cpu = server.cpu_seconds() - cpu_before
    return Figure(
        name=load.name,
        requests_per_second=raw["requests"] / max(raw["duration_us"] / 1e6, 1e-6),
        p50_ms=raw["p50_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=raw["non2xx"] + raw["socket"],
        rss_mib=server.rss_mib(),
        cpu_ms=cpu * 1000 / max(raw["requests"], 1),
        requests=raw["requests"],
        baseline=load.baseline,
    )


def _check_load(server: Server, load: Load, requests: int, connections: int) -> Figure:
    """``requests`` requests of ``load`` over ``connections`` concurrent clients; any error answer raises."""
    prefix = uuid.uuid4().hex[:12]
    latencies: list[float] = []
    cpu_before = server.cpu_seconds()

    def one(counter: int, client: httpx.Client) -> None:
        n = f"{prefix}-{counter}"
        headers = {name: value.replace("{n}", n) for name, value in load.headers.items()}
        if load.bodies:
            content: str | None = load.bodies[min(counter, len(load.bodies)) - 1]
        else:
            content = load.body.replace("{n}", n) if load.body else None
        began = time.perf_counter()
        response = client.request(load.method, load.path, headers=headers, content=content)
        latencies.append(time.perf_counter() - began)
        if response.status_code >= 400:
            raise RuntimeError(f"{load.name}: {response.status_code} {response.text[:500]}")

    def worker(first: int) -> None:
        with loopback.client(base_url=server.base_url, timeout=60) as client:
            for counter in range(first, requests + 1, connections):
                one(counter, client)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        for done in [pool.submit(worker, first) for first in range(1, min(connections, requests) + 1)]:
            done.result()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return Figure(
        name=load.name,
        requests_per_second=len(latencies) / elapsed,
        p50_ms=1000 * latencies[len(latencies) // 2],
        p95_ms=1000 * latencies[int(0.95 * (len(latencies) - 1))],
        p99_ms=1000 * latencies[int(0.99 * (len(latencies) - 1))],
        errors=0,
        rss_mib=server.rss_mib(),
        cpu_ms=(server.cpu_seconds() - cpu_before) * 1000 / len(latencies),
        requests=len(latencies),
        baseline=load.baseline,
    )


def check(server: Server, load: Load, expect: int = 200) -> httpx.Response:
    """Send ``load`` once and insist on ``expect``: a benchmark of error answers measures nothing."""
    if load.bodies:
        content: str | None = load.bodies[-1]  # the one a run reaches last, if ever: the others stay unused
    else:
        content = load.body.replace("{n}", uuid.uuid4().hex) if load.body else None
    headers = {name: value.replace("{n}", uuid.uuid4().hex) for name, value in load.headers.items()}
    response = loopback.request(load.method, server.base_url + load.path, headers=headers, content=content, timeout=30)
    if response.status_code != expect:
        raise RuntimeError(f"{load.name}: expected {expect}, got {response.status_code}: {response.text[:500]}")
    return response


def cursor_near_end(server: Server, key: str, path: str, params: Mapping[str, str] | None = None) -> str:
    """The cursor of a page near the end of a list (about 100 rows before it, or half way on a short list),
    found by walking it as a client would."""
    with loopback.client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        total = client.get(path, params={**(params or {}), "limit": 1, "count": "true"}).json()["total"]
        leave = min(100, total // 2)
        size = 200 if total > 2000 else max(1, total // 10)
        walked, cursor = 0, None
        while walked < total - leave:
            page = client.get(path, params={**(params or {}), "limit": size, **({"cursor": cursor} if cursor else {})})
            page.raise_for_status()
            walked += len(page.json()["items"])
            cursor = page.json()["next_cursor"] or cursor
            if page.json()["next_cursor"] is None:
                break
    if cursor is None:
        raise RuntimeError(f"{path} has too few rows ({total}) for a page near its end")
    return str(cursor)

"""In-process latency of ``POST /v1/checks``: the booking tool's question, end to end inside the API.

Through chalice's test client (the local gateway, the guard with a cached API key, validation, the
rules, the JSON answer) against in-process moto, so it measures our code, not a network.
"""

from __future__ import annotations

import io
import json
import logging
import os
import statistics
import time
from datetime import date, timedelta

TARGET_MEDIAN_MS = 1.0
HOSTS = ["FR", "US", "CH", "GB", "SG", "IN", "ES", "DK"]


def _bodies(n: int) -> list[str]:
    return [
        json.dumps(
            {
                "home_country": "DE",
                "host_country": HOSTS[i % len(HOSTS)],
                "start": (date(2027, 3, 1) + timedelta(days=i % 300)).isoformat(),
                "end": (date(2027, 3, 5) + timedelta(days=i % 300)).isoformat(),
            }
        )
        for i in range(n)
    ]


def run(calls: int = 10_000, warmup: int = 200) -> tuple[float, float]:
    """Median and p99 in milliseconds of ``calls`` checks (after ``warmup`` untimed ones)."""
    from chalicelib import bootstrap

    saved = dict(os.environ)
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "COVERWATCH_TODAY": "2027-01-15"}
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)  # in-process moto, whatever the shell points at
    bootstrap.default_settings.cache_clear()
    try:
        timings = _timed(calls, warmup)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        bootstrap.default_settings.cache_clear()
    timings.sort()
    median = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    verdict = "meets" if median <= TARGET_MEDIAN_MS else "misses"
    print(
        f"POST /v1/checks in-process: {calls} calls, median {median:.3f} ms, p99 {p99:.3f} ms "
        f"(target median ≤ {TARGET_MEDIAN_MS:g} ms: {verdict})"
    )
    return median, p99


def _timed(calls: int, warmup: int) -> list[float]:
    from chalice.test import Client
    from moto import mock_aws

    import app as app_module
    from chalicelib import bootstrap
    from chalicelib.api.keys import new_key
    from chalicelib.api.records import Scope
    from coverwatch.localaws import provision

    # Every request logs its INFO line as in production; formatted into memory, not onto the terminal.
    for handler in logging.getLogger("coverwatch").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(io.StringIO())

    with mock_aws():
        settings = bootstrap.default_settings()
        provision(settings)
        app_module._repo.cache_clear()
        app_module.guard.forget()
        key, record = new_key("bench", frozenset({Scope.CHECK}), rate_per_minute=100_000)
        bootstrap.repository(settings).put_api_key(record)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        bodies = _bodies(calls)
        with Client(app_module.app, stage_name="dev") as client:
            for body in bodies[:warmup]:  # rulebook loaded, key cached: a warm Lambda
                assert client.http.post("/v1/checks", headers=headers, body=body).status_code == 200
            timings = []
            for body in bodies:
                started = time.perf_counter()
                response = client.http.post("/v1/checks", headers=headers, body=body)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.body
        app_module._repo.cache_clear()
        app_module.guard.forget()
    return timings


if __name__ == "__main__":
    run()

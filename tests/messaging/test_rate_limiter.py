"""The sender's rate limiter, against a simulated gateway on a fake clock: it sends at the rate
whenever work is waiting (catching up short stalls), and the gateway never sees more than the
rate in any one second, however late within the slack each request arrives."""
from __future__ import annotations

import heapq
import random

import pytest

from outreach.messaging.delivery import RateLimiter, TokenBucket
from tests.fakes.clock import FakeClock


def most_in_a_second(times: list[float]) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def simulate(limiter, clock: FakeClock, *, seconds: float, concurrency: int, latency, stalls=(),
             arrival=lambda start, end, rng: start + (end - start) * rng.random()) -> list[float]:
    """A sender with ``concurrency`` requests in flight and always more work waiting, for
    ``seconds``: the gateway arrival time of each request. ``latency(rng)`` is a request's
    duration; at each ``(when, how_long)`` in ``stalls`` the sender's loop is busy elsewhere
    (ends that fall in a stall are noticed afterwards, with their true times)."""
    rng = random.Random(7)
    end_at = clock.now + seconds
    stalls = sorted((clock.now + when, how_long) for when, how_long in stalls)
    in_flight: list[tuple[float, float]] = []  # (end, started) heap
    arrivals: list[float] = []
    while clock.now < end_at:
        if stalls and clock.now >= stalls[0][0]:
            clock.now += stalls.pop(0)[1]
        while in_flight and in_flight[0][0] <= clock.now:
            ended, started = heapq.heappop(in_flight)
            limiter.finish(started, ended) if isinstance(limiter, RateLimiter) else None
        pause = limiter.delay()
        if pause <= 0 and len(in_flight) < concurrency:
            started = limiter.start() if isinstance(limiter, RateLimiter) else (limiter.take() or clock.now)
            ended = started + latency(rng)
            arrivals.append(arrival(started, ended, rng))
            heapq.heappush(in_flight, (ended, started))
            continue
        nxt = [clock.now + pause] if pause > 0 else []
        if in_flight:
            nxt.append(in_flight[0][0])
        if stalls:
            nxt.append(stalls[0][0])
        clock.now = max(clock.now + 1e-6, min(nxt))
    return [a for a in arrivals if a < end_at]


def test_sends_at_the_rate_when_requests_are_quick():
    clock = FakeClock()
    limiter = RateLimiter(100.0, clock=clock, sleep=clock.sleep)
    arrivals = simulate(limiter, clock, seconds=20, concurrency=8, latency=lambda rng: rng.uniform(0.003, 0.010))
    assert most_in_a_second(arrivals) <= 100
    assert len(arrivals) >= 100 * 20 * 0.98  # the cost is about the latency: 1/(1 + 0.01)


def test_catches_up_after_short_stalls_where_a_one_token_bucket_cannot():
    stalls = [(t, 0.15) for t in range(1, 20, 2)]  # 1.5 s of 20 lost to other work
    quick = lambda rng: rng.uniform(0.003, 0.010)  # noqa: E731
    clock = FakeClock()
    arrivals = simulate(RateLimiter(100.0, clock=clock, sleep=clock.sleep), clock, seconds=20, concurrency=8,
                        latency=quick, stalls=stalls)
    assert most_in_a_second(arrivals) <= 100
    assert len(arrivals) >= 100 * 20 * 0.98
    # What the sender had: the stalls are simply lost.
    clock = FakeClock()
    old = simulate(TokenBucket(100.0, clock=clock, sleep=clock.sleep), clock, seconds=20, concurrency=8,
                   latency=quick, stalls=stalls)
    assert len(old) < 100 * 20 * 0.94


@pytest.mark.parametrize("latency", [0.005, 0.05, 0.3])
def test_never_more_than_the_rate_at_the_gateway_however_late_requests_arrive(latency):
    """By default a request counts until it ended: even when each arrives at the last moment
    (just before its answer), and however that varies, never more than the rate in a second."""
    clock = FakeClock()
    limiter = RateLimiter(100.0, clock=clock, sleep=clock.sleep)
    # Enough in flight that only the limiter holds the rate back (rate x latency).
    arrivals = simulate(limiter, clock, seconds=10, concurrency=64,
                        latency=lambda rng: latency * rng.choice([0.2, 1.0, 1.0, 3.0]),
                        arrival=lambda start, end, rng: end - 1e-9 if rng.random() < 0.5 else start)
    assert most_in_a_second(arrivals) <= 100
    # ... and the price of that guarantee is about the latency's share of each second.
    assert len(arrivals) >= 100 * 10 / (1 + 3.0 * latency) * 0.97


@pytest.mark.parametrize("latency", [0.05, 0.3, 2.0])
def test_with_a_slack_the_rate_holds_while_requests_arrive_within_it(latency):
    """With ``slack_seconds`` a slow request counts only that long: cheaper, and still exact
    for requests that arrive within the slack of their start (here as late as allowed)."""
    clock = FakeClock()
    limiter = RateLimiter(100.0, slack_seconds=0.1, clock=clock, sleep=clock.sleep)
    arrivals = simulate(limiter, clock, seconds=10, concurrency=256, latency=lambda rng: latency,
                        arrival=lambda start, end, rng: min(end, start + 0.1) - 1e-9 * rng.random())
    assert most_in_a_second(arrivals) <= 100
    assert len(arrivals) >= 100 * 10 / (1 + min(latency, 0.1)) * 0.97


def test_a_burst_after_idle_is_bounded_by_the_bucket():
    clock = FakeClock()
    limiter = RateLimiter(100.0, burst_seconds=0.25, clock=clock, sleep=clock.sleep)
    clock.now += 60
    start = clock.now
    ready = 0
    while limiter.delay() == 0.0:
        limiter.finish(limiter.start(), clock.now)
        ready += 1
    assert ready == 25 and clock.now == start


@pytest.mark.parametrize("rate, most", [(1.0, 1), (0.5, 1), (2.5, 2), (20.0, 20)])
def test_low_and_fractional_rates(rate, most):
    clock = FakeClock()
    limiter = RateLimiter(rate, clock=clock, sleep=clock.sleep)
    arrivals = simulate(limiter, clock, seconds=30, concurrency=4, latency=lambda rng: 0.02)
    assert most_in_a_second(arrivals) <= most
    assert len(arrivals) >= min(rate, most) * 30 / 1.02 * 0.95


@pytest.mark.parametrize("slack", [-1.0, float("nan")])
def test_refuses_a_nonsense_slack(slack):
    with pytest.raises(ValueError):
        RateLimiter(10.0, slack_seconds=slack)

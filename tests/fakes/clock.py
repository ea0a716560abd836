"""A clock the test moves by hand: call it for "now", ``sleep`` advances it (no real waiting)."""
from __future__ import annotations


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

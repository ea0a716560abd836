"""Demo steps: how later features add their own demo rows without editing the demo package.

After the core data (trust, schools, pupils, contacts, marks, accounts, templates) is written,
``outreach demo`` runs every registered step in order. A feature registers one from its own
``outreach/<feature>/demo.py``, which is found and imported automatically::

    # outreach/walking_bus/demo.py
    from outreach.demo.steps import DemoContext, register_demo_step

    def add_routes(ctx: DemoContext) -> str:
        rng = ctx.random("walking_bus")          # deterministic for the demo's seed
        school = ctx.schools["primary"]
        ...                                      # call the feature's own services
        return "2 walking bus routes, 14 stops"  # printed after the step's name

    register_demo_step("walking buses", add_routes, order=20)

Steps run by (order, name), so the result does not depend on import order. A step should use
its feature's services (which own their transactions), draw every random choice from
``ctx.random(...)`` and read "today" from ``ctx.today``, so the same seed gives the same rows.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import random
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from outreach.demo.generate import DemoData
    from outreach.schools.models import School, Trust

FEATURE_MODULE = "demo"  # outreach/<feature>/demo.py


@dataclass(frozen=True)
class DemoContext:
    """What a step can build on: the generated records and the rows they became."""

    data: "DemoData"
    trust: "Trust"
    schools: dict[str, "School"]  # by key: "primary", "secondary", "special"
    pupil_ids: dict[str, list[int]]  # by school key: generator pupil index -> Pupil.id
    contact_ids: dict[str, list[int]] = field(default_factory=dict)  # likewise for contacts
    user_ids: dict[str, int] = field(default_factory=dict)  # by email

    @property
    def seed(self) -> int:
        return self.data.seed

    @property
    def today(self) -> date:
        return self.data.today

    def random(self, *parts: object) -> random.Random:
        """A generator of its own for this step (and whatever else ``parts`` names), seeded
        the way the core data's generators are."""
        from outreach.demo.generate import seeded_random

        return seeded_random(self.data.seed, "step", *parts)


StepFunction = Callable[[DemoContext], "str | None"]


@dataclass(frozen=True)
class DemoStep:
    name: str
    fn: StepFunction
    order: int = 100


_STEPS: dict[str, DemoStep] = {}


def register_demo_step(name: str, fn: StepFunction, *, order: int = 100) -> None:
    """Add a step (returns a one-line summary or None). Registering the same function under
    the same name again (a module imported twice) is harmless; another function under a name
    already taken is a mistake and raises."""
    existing = _STEPS.get(name)
    if existing is not None and existing.fn is not fn:
        raise ValueError(f"a demo step called {name!r} is already registered ({existing.fn.__module__})")
    _STEPS[name] = DemoStep(name, fn, order)


def unregister_demo_step(name: str) -> None:
    _STEPS.pop(name, None)


def discover_feature_steps() -> list[str]:
    """Import every ``outreach.<feature>.demo`` module (each registers its steps); returns
    the module names, sorted."""
    import outreach

    found = []
    for module in sorted(pkgutil.iter_modules(outreach.__path__), key=lambda m: m.name):
        if not module.ispkg or module.name == "demo":
            continue
        name = f"outreach.{module.name}.{FEATURE_MODULE}"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
            found.append(name)
    return found


def registered_steps() -> list[DemoStep]:
    return sorted(_STEPS.values(), key=lambda s: (s.order, s.name))

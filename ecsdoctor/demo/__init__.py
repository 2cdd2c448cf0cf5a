"""Emulated broken AWS accounts for `ecsdoctor demo` and the end-to-end tests.

Each scenario builds, inside moto, one Fargate account with exactly one thing broken and a stopped
task carrying the message ECS really gives for it, plus the root cause a diagnosis must confirm.
moto is an optional extra ('demo'), so it is imported only when a scenario is built.
"""

from ecsdoctor.demo.scenarios import (
    DEFAULT_SCENARIO,
    SCENARIOS,
    Expected,
    Scenario,
    ScenarioSpec,
)

__all__ = ["DEFAULT_SCENARIO", "SCENARIOS", "Expected", "Scenario", "ScenarioSpec"]

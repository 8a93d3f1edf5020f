"""Scenario: traffic against the bo1 look-alike with known truth (an expectations file)."""

from bo1dash.scenario.config import SMALL, ScenarioConfig
from bo1dash.scenario.expectations import Expectations
from bo1dash.scenario.run import ScenarioError, run_scenario

__all__ = ["SMALL", "Expectations", "ScenarioConfig", "ScenarioError", "run_scenario"]

"""The collector a recipe describes: one place that knows every way of collecting."""

from __future__ import annotations

from auditor.collect.arm import ArmCollector
from auditor.collect.graph import GraphCollector
from auditor.collect.interface import Collector, Source
from auditor.collect.recipe import CollectorRecipe


def build_collector(recipe: CollectorRecipe, processes: int = 1) -> Collector:
    """Either mode reads large tenants with `processes` processes."""
    if recipe.source is Source.GRAPH:
        return GraphCollector.from_recipe(recipe, processes)
    return ArmCollector.from_recipe(recipe, processes)

"""Selection: which offspring of a generation becomes the next parent.

Fitness is validation top-1. Offspring below the accuracy floor, and failed ones, are
never selected; among the rest the best top-1 wins, ties going to the smaller network,
then to the first drawn.
"""

from __future__ import annotations

from squish_tf.net import arch


def fit_offspring(results: list[dict], accuracy_floor: float) -> list[dict]:
  """The offspring that may become a parent: not failed, at or above the floor."""
  return [r for r in results if not r.get("failed") and r["top1_val"] >= accuracy_floor]


def best(results: list[dict], accuracy_floor: float) -> dict | None:
  """The selected offspring, or None when none qualifies."""
  candidates = fit_offspring(results, accuracy_floor)
  if not candidates:
    return None
  return max(candidates, key=lambda r: (r["top1_val"], -arch.param_count(r["spec"]),
                                        -r["offspring"]))

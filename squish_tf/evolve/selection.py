"""Selection: which offspring of a generation becomes the next parent.

Fitness is validation top-1. Offspring below the generation's floor, and failed ones, are
never selected. Among the rest:
- `accuracy`: the best top-1 wins, ties going to the smaller network, then the first drawn;
- `tradeoff`: of the offspring within `tolerance` of the best top-1, the smallest by the
  run's objective (parameters, MACs or measured latency) wins, ties going to the better
  top-1: a population larger than one then buys a smaller network at the same accuracy,
  where `accuracy` would simply keep the least-pruned offspring.
"""

from __future__ import annotations

from squish_tf.net import arch


def fit_offspring(results: list[dict], floor: float) -> list[dict]:
  """The offspring that may become a parent: not failed, at or above the floor."""
  return [r for r in results if not r.get("failed") and r["top1_val"] >= floor]


def best(results: list[dict], floor: float, selection: str = "accuracy",
         tolerance: float = 0.0, size=None) -> dict | None:
  """The selected offspring, or None when none qualifies. `size(result)` is the objective
  for `tradeoff` (computed only for the offspring it compares)."""
  candidates = fit_offspring(results, floor)
  if not candidates:
    return None
  if selection == "accuracy":
    return max(candidates, key=lambda r: (r["top1_val"], -arch.param_count(r["spec"]),
                                          -r["offspring"]))
  if selection != "tradeoff":
    raise ValueError(f"selection must be accuracy or tradeoff, got {selection!r}")
  top = max(r["top1_val"] for r in candidates)
  near = [r for r in candidates if r["top1_val"] >= top - tolerance - 1e-12]
  return min(near, key=lambda r: (size(r), -r["top1_val"], r["offspring"]))

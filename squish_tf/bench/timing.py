"""How every benchmark here times a model: timed runs in rounds, medians and percentiles.

images/s is the median over rounds (a slow spell of the machine spoils one round, not the
figure); latency percentiles are over all timed runs. The headline latency is one image
at a time (batch 1), the figure a phone app feels.
"""

from __future__ import annotations

import time

import numpy as np

PERCENTILES = (10, 50, 90)


def time_runs(run, seconds: float, min_runs: int) -> list[float]:
  """Seconds of each call of `run()`, for at least `seconds` and `min_runs` calls."""
  latencies = []
  deadline = time.perf_counter() + seconds
  while len(latencies) < min_runs or time.perf_counter() < deadline:
    start = time.perf_counter()
    run()
    latencies.append(time.perf_counter() - start)
  return latencies


def summarize(batch: int, rounds: list[list[float]]) -> dict:
  """images/s (median of rounds) and latency percentiles (all runs) for one batch size."""
  rates = [batch * len(lat) / sum(lat) for lat in rounds]
  lat_ms = np.concatenate([np.asarray(lat) for lat in rounds]) * 1000.0
  out = {f"images_per_sec_b{batch}": round(float(np.median(rates)), 2)}
  for p in PERCENTILES:
    out[f"latency_ms_p{p}_b{batch}"] = round(float(np.percentile(lat_ms, p)), 4)
  return out


def measure(run, batch: int, seconds: float, rounds: int = 3, warmup: int = 3,
            min_runs: int = 3) -> dict:
  """Times `run()` (one batch of `batch` images) after `warmup` calls."""
  for _ in range(warmup):
    run()
  return summarize(batch, [time_runs(run, seconds / rounds, min_runs) for _ in range(rounds)])


def headline(result: dict) -> dict:
  """Adds `latency_ms_pN` (no batch suffix): the batch-1 figures, when measured."""
  for p in PERCENTILES:
    if f"latency_ms_p{p}_b1" in result:
      result[f"latency_ms_p{p}"] = result[f"latency_ms_p{p}_b1"]
  return result

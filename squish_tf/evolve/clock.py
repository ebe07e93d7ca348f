"""Seconds per phase (sample, surgery, train, convert, ...), for the report's time split."""

from __future__ import annotations

import contextlib
import time


class PhaseClock:
  """Accumulates wall-clock seconds per named phase."""

  def __init__(self):
    self.seconds: dict[str, float] = {}

  @contextlib.contextmanager
  def time(self, phase: str):
    start = time.perf_counter()
    try:
      yield
    finally:
      self.add(phase, time.perf_counter() - start)

  def add(self, phase: str, seconds: float) -> None:
    self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

  def add_all(self, seconds: dict[str, float]) -> None:
    """Adds another clock's seconds (an offspring task's, timed in its own process)."""
    for phase, value in seconds.items():
      self.add(phase, value)

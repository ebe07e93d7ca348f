"""Which tf.distribute strategy trains one network: `default` or `mirrored` over GPUs.

A Keras 3 model trains under the strategy it was built in, so callers build,
compile and fit inside `make_strategy(name).scope()`. The strategy only changes
where one network's batches run; what the run computes stays the same (up to
the order of float sums across replicas).
"""

from __future__ import annotations

import functools

import tensorflow as tf
from absl import logging

STRATEGIES = ("default", "mirrored")
_fallback_logged = False


def make_strategy(name: str, devices: list[str] | None = None) -> tf.distribute.Strategy:
  """Returns the strategy called `name`.

  `mirrored` replicates the network on `devices` (default: every visible GPU) and
  averages gradients across them; with no GPU it logs that it falls back to the
  default strategy, so the same command runs on a laptop and on a GPU node.
  """
  if name not in STRATEGIES:
    raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {name!r}")
  if name == "default":
    return tf.distribute.get_strategy()
  if devices is None and not tf.config.list_logical_devices("GPU"):
    _log_fallback_once()
    return tf.distribute.get_strategy()
  return _mirrored(None if devices is None else tuple(devices))


@functools.lru_cache(maxsize=None)
def _mirrored(devices: tuple[str, ...] | None) -> tf.distribute.MirroredStrategy:
  # One per device set and process: every offspring a worker trains reuses it.
  strategy = tf.distribute.MirroredStrategy(None if devices is None else list(devices))
  logging.info("--strategy=mirrored: %d replicas in sync", strategy.num_replicas_in_sync)
  return strategy


def _log_fallback_once() -> None:
  global _fallback_logged
  if not _fallback_logged:  # once per process, not once per offspring
    logging.warning("--strategy=mirrored: no visible GPU, falling back to the default "
                    "strategy (one device)")
    _fallback_logged = True

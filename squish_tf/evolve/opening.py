"""Opening an evolution's run directory: a new run's config written, a resumed run's checked.

Nothing here imports TensorFlow, so `squish-evolve` tells a mistaken --workdir or --resume
(nothing to resume, a changed setting, a damaged file) in one line before TensorFlow starts.
"""

from __future__ import annotations

from squish_tf import config as config_lib
from squish_tf.rundir import RunDir

# Settings a resumed run may change without changing what the finished generations computed.
RESUMABLE_CHANGES = ("generations", "threads", "strategy", "target_size_kb",
                     "target_latency_ms", "target_macs", "target_int8_kb", "polish_epochs",
                     "stall_generations", "bench_seconds")


def start(cfg: config_lib.EvolveConfig, workdir: str, resume: bool) -> RunDir:
  """Opens the run directory for a new run, or checks that a resumed run keeps its config."""
  run = RunDir(workdir)
  run.start(config_lib.to_dict(cfg), config_lib.to_dict(config_lib.EvolveConfig()), resume,
            RESUMABLE_CHANGES)
  return run

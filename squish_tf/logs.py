"""Quiet logs: what an entry point and the worker processes it spawns both set up."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings

from absl import flags
from absl import logging as absl_logging


class QuietLibraries(logging.Filter):
  """Drops INFO records logged from inside TensorFlow and Keras.

  Their converter and SavedModel writer log pages of INFO through absl for every
  .tflite; our progress lines are what the user wants to see. Warnings still pass, except
  tf.function's retracing warning: every generation is a new network, so its predict
  function is traced anew by design.
  """

  def filter(self, record):
    noisy = any(part in record.pathname
                for part in ("/tensorflow/", "/tensorflow_datasets/", "/keras/", "/tf_keras/"))
    if noisy and "triggered tf.function retracing" in record.getMessage():
      return False
    return record.levelno >= logging.WARNING or not noisy


def quiet_libraries() -> None:
  """Library INFO pages and a Keras warning every fit repeats, out of absl's output."""
  warnings.filterwarnings("ignore", message=".*`shuffle=True` was passed.*")
  absl_logging.get_absl_handler().addFilter(QuietLibraries())


def as_in_parent(verbosity: int) -> None:
  """In a spawned process, which never runs absl's app.run: TensorFlow started as quietly,
  absl's own handler and format at the parent's verbosity, libraries as quiet."""
  start_tensorflow_quietly()
  flags.FLAGS.mark_as_parsed()  # absl logs "before flag parsing" otherwise
  absl_logging.use_absl_handler()
  absl_logging.set_verbosity(verbosity)
  quiet_libraries()


@contextlib.contextmanager
def muted_stderr():
  """The process's file descriptor 2 muted for the block, for TensorFlow's C++ start-up lines
  (CUDA stubs, cuInit on a machine without a GPU): they are written before any logging
  setting applies, and would bury a one-line error. A block that fails replays what was
  muted. Only for a short block with no other thread at work: every thread's stderr, and a
  child process started meanwhile, would be muted too. Set TF_CPP_MIN_LOG_LEVEL=0 (or 1) to
  see the lines."""
  if os.environ.get("TF_CPP_MIN_LOG_LEVEL") not in ("2", "3"):
    yield
    return
  sys.stderr.flush()
  saved = os.dup(2)
  try:
    with tempfile.TemporaryFile() as captured:
      try:
        os.dup2(captured.fileno(), 2)
        yield
      except Exception:  # not after Ctrl-C: the run's one line says it all
        os.dup2(saved, 2)
        captured.seek(0)
        sys.stderr.write(captured.read().decode(errors="replace"))
        raise
      finally:
        os.dup2(saved, 2)  # first: a second Ctrl-C here must not leave stderr muted
  finally:
    os.close(saved)


def start_tensorflow_quietly() -> None:
  """Imports TensorFlow and finds its devices with its start-up lines muted."""
  if "tensorflow" in sys.modules:
    return
  with muted_stderr():
    import tensorflow as tf
    tf.config.list_physical_devices()

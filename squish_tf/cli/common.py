"""What every entry point shares: flags with the same names everywhere (defined only when an
entry point asks), quiet library logs, and one line for a user's mistake.

An entry point defines its flags, then `run(main)`: `main` reads the flags and calls one
library function. A `UserError` prints `error: <problem and fix>` and exits 2; any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import tempfile
import warnings

from absl import app, flags
from absl import logging as absl_logging

from squish_tf.errors import UserError


def define_data_flags() -> None:
  flags.DEFINE_string("dataset", "digits",
                      "digits (bundled, offline), imagenet10, folder:PATH, or a TFDS builder name.")
  flags.DEFINE_string("data_dir", None,
                      "TFDS data directory (and manual_dir parent for imagenet10).")
  flags.DEFINE_integer("image_size", 64, "Training input side in pixels (>= 32).", lower_bound=32)
  flags.DEFINE_integer("seed", 0, "Seed for splits, initialization, shuffling and sampling.")


def define_train_flags(epochs: int = 30) -> None:
  flags.DEFINE_integer("epochs", epochs, "Training epochs.", lower_bound=1)
  flags.DEFINE_integer("batch_size", 64, "Training batch size.", lower_bound=1)
  flags.DEFINE_float("learning_rate", 5e-4, "Peak Adam learning rate (cosine decay to 0).",
                     lower_bound=0.0)


class _QuietLibraries(logging.Filter):
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


def exit_on_user_error(main):
  """Wraps an absl `main` so that a UserError prints one line and exits 2."""
  @functools.wraps(main)
  def wrapper(argv):
    try:
      return main(argv)
    except UserError as e:
      print(f"error: {e}", file=sys.stderr)
      sys.exit(2)
  return wrapper


def start_tensorflow_quietly() -> None:
  """Imports TensorFlow and finds its devices with the process's stderr muted.

  TensorFlow's C++ start-up lines (CUDA stubs, cuInit on a machine without a GPU) are
  written before any logging setting applies; muting file descriptor 2 is the only way to
  keep them from burying a one-line error. A failing import replays what was muted.
  Set TF_CPP_MIN_LOG_LEVEL=0 (or 1) to see them.
  """
  if os.environ.get("TF_CPP_MIN_LOG_LEVEL") not in ("2", "3") or "tensorflow" in sys.modules:
    return
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as captured:
    os.dup2(captured.fileno(), 2)
    try:
      import tensorflow as tf
      tf.config.list_physical_devices()
    except BaseException:
      os.dup2(saved, 2)
      captured.seek(0)
      sys.stderr.write(captured.read().decode(errors="replace"))
      raise
    finally:
      os.dup2(saved, 2)
      os.close(saved)


def run(main) -> None:
  """Runs an absl `main` with quiet library logs; user errors print one line and exit 2."""
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
  warnings.filterwarnings("ignore", message=".*`shuffle=True` was passed.*")

  def quiet_main(argv):
    absl_logging.get_absl_handler().addFilter(_QuietLibraries())
    start_tensorflow_quietly()
    return main(argv)

  app.run(exit_on_user_error(quiet_main))

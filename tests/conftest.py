"""Shared test set-up: quiet TensorFlow, one TensorFlow state per test, a CLI runner."""

import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


def run_cli(*args, timeout=600, env=None):
  """Runs a squish_tf console entry point (module form) and returns the CompletedProcess."""
  module, *rest = args
  full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
  return subprocess.run([sys.executable, "-m", f"squish_tf.cli.{module}", *rest],
                        capture_output=True, text=True, timeout=timeout, env=full_env)


@pytest.fixture
def cli():
  return run_cli


HOLDER = ("import sys, time; from squish_tf import files; files.hold(sys.argv[1], sys.argv[2]); "
          "print('held', flush=True); time.sleep(120)")


@pytest.fixture
def held_elsewhere():
  """f(path, what): another process that holds `path` as `what` (`files.hold`) once f
  returns, until the test kills it or ends."""
  started = []

  def hold(path, what):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), what],
                            stdout=subprocess.PIPE, text=True)
    started.append(proc)
    assert proc.stdout.readline().strip() == "held"
    return proc
  yield hold
  for proc in started:
    proc.kill()
    proc.wait()
    proc.stdout.close()


# One TensorFlow state for every test, whatever ran before it in its xdist worker.
# Deterministic kernels are a process-wide switch that the evolution loop turns on and that
# cannot be turned off again for one test, so they are on from the start; Keras's seed is
# set before every test (a module's fixture, built first, seeds itself). A session whose
# test files never import TensorFlow is spared its ~8 s start.
def _same_tensorflow_state():
  if "tensorflow" in sys.modules:
    import keras
    import tensorflow as tf
    keras.utils.set_random_seed(0)  # determinism refuses random ops without a seed
    tf.config.experimental.enable_op_determinism()


@pytest.fixture(scope="session", autouse=True)
def deterministic_kernels():
  _same_tensorflow_state()  # after collection: before any module's fixture


@pytest.fixture(autouse=True)
def keras_seed():
  _same_tensorflow_state()

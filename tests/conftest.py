"""Shared test set-up: quiet TensorFlow, small helpers that build masked networks."""

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


@pytest.fixture(scope="module")
def brief_timing():
  """A module whose runs record each generation's timings without judging them: 0.05 s a
  measurement instead of the loop's 0.5 (a toy generation's timings are ~2 s of its ~15)."""
  from squish_tf.evolve import loop
  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(loop, "BENCH_SECONDS", 0.05)
    patch.setattr(loop, "RELEASE_SECONDS", 0.05)
    yield

"""Shared test set-up: quiet TensorFlow, a CLI runner."""

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

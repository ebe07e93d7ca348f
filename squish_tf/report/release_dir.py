"""Where a release goes, and whether it may go there (no TensorFlow: squish-report asks
before TensorFlow starts).

A release directory is replaced whole, so it must be new, empty or an earlier release (it
holds `MODELS_INDEX`), and must not hold the run or the report it is made from.
"""

from __future__ import annotations

import os

from squish_tf import files
from squish_tf.errors import UserError

RELEASE = "release"  # OUT/release/, unless --publish_dir names another place
MODELS_INDEX = "models.json"  # what marks a release


def release_dir(workdir: str, out_dir: str | None, publish_dir: str | None) -> str:
  """The release's directory, checked: a UserError names the flag that chose it."""
  out_dir = out_dir or workdir
  release = publish_dir or os.path.join(out_dir, RELEASE)
  flag = "--publish_dir" if publish_dir else "--out (its release/)"
  files.check_replaceable(release, MODELS_INDEX, flag)
  for inner, what in ((workdir, "the run"), (out_dir, "the report")):
    if _within(inner, release):
      raise UserError(f"{flag}={release} would hold {what} ({inner}), and it is replaced "
                      f"whole; publish somewhere else")
  return release


def _within(path: str, directory: str) -> bool:
  path, directory = os.path.realpath(path), os.path.realpath(directory)
  return os.path.commonpath([path, directory]) == directory

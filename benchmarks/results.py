"""Where benchmark scripts write what they measured: results/<name>.json and <name>.md."""

from __future__ import annotations

import os

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS_DIR = os.path.join(HERE, "results")


def write(name: str, result: dict, results_dir: str = RESULTS_DIR, markdown: str = "") -> str:
  """Writes results_dir/name.json (the figures) and name.md (for people); returns the .md path."""
  from squish_tf import files
  files.write_json(os.path.join(results_dir, f"{name}.json"), result)
  path = os.path.join(results_dir, f"{name}.md")
  files.write_text(path, markdown.rstrip() + "\n")
  return path

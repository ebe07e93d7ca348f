"""A run directory: the paths of everything a run writes, its records, and its start and resume.

Layout of a squish-evolve run (everything needed to resume it or report on it):
  config.json            the run's configuration
  labels.txt             class names, one per line
  gen_NNN/               one finished generation (NNN = 000 is the ancestor):
    model.keras          the squished dense network, trained (no constraints)
    masks.npz            its genome (boolean kernel masks by conv layer)
    spec.json            filters per conv layer
    model.tflite(.json)  float32 TFLite, verified against Keras (figures beside it)
    model_int8.tflite(.json)  int8 TFLite, with --int8
    metrics.json         this generation's metrics line
  metrics.jsonl          one line per finished generation, rebuilt from gen_*/metrics.json
  state.json             whether the run stopped early, and why
A generation is written to gen_NNN.partial/ and renamed when complete, so a run killed at
any moment loses at most the generation in progress.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil

from squish_tf import files
from squish_tf.errors import UserError

CONFIG = "config.json"
METRICS = "metrics.jsonl"
STATE = "state.json"
LABELS = "labels.txt"
GEN_METRICS = "metrics.json"


class RunDir:
  """One run directory on disk. Nothing is created until something is written."""

  def __init__(self, path: str):
    self.path = path

  def file(self, *parts: str) -> str:
    return os.path.join(self.path, *parts)

  def gen_dir(self, generation: int) -> str:
    return self.file(f"gen_{generation:03d}")

  def gen_file(self, generation: int, name: str) -> str:
    return os.path.join(self.gen_dir(generation), name)

  def finished_generations(self, holding: str = GEN_METRICS) -> list[int]:
    """Generations whose directory is complete (renamed from .partial) and holds `holding`."""
    found = glob.glob(os.path.join(glob.escape(self.path), "gen_[0-9][0-9][0-9]", holding))
    return sorted(int(os.path.basename(os.path.dirname(p))[4:]) for p in found)

  def records(self) -> list[dict]:
    """The metrics line of every finished generation, in order."""
    return [files.read_json(self.gen_file(g, GEN_METRICS)) for g in self.finished_generations()]

  def read_config(self) -> dict | None:
    """config.json as a dict, None when there is none."""
    path = self.file(CONFIG)
    if not os.path.exists(path):
      return None
    return files.read_json(path)

  def write_config(self, config: dict) -> None:
    files.write_json(self.file(CONFIG), config)

  def read_state(self) -> dict:
    path = self.file(STATE)
    return files.read_json(path) if os.path.exists(path) else {}

  def write_state(self, state: dict) -> None:
    files.write_json(self.file(STATE), state)

  def write_labels(self, class_names: list) -> None:
    files.write_text(self.file(LABELS), "\n".join(class_names) + "\n")

  def read_labels(self) -> list[str]:
    with open(self.file(LABELS), encoding="utf-8") as f:
      return [line.strip() for line in f.read().splitlines() if line.strip()]

  def rebuild_metrics(self) -> None:
    """metrics.jsonl from gen_*/metrics.json: the per-generation files are the truth."""
    files.write_jsonl(self.file(METRICS), self.records())

  @contextlib.contextmanager
  def new_generation(self, generation: int):
    """Yields gen_NNN.partial/ to write into; renames it to gen_NNN/ on success."""
    partial = self.gen_dir(generation) + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    yield partial
    os.replace(partial, self.gen_dir(generation))
    self.rebuild_metrics()

  def clear_partials(self) -> None:
    """Removes generations that were in progress when a run died."""
    for partial in glob.glob(os.path.join(glob.escape(self.path), "gen_*.partial")):
      shutil.rmtree(partial)

  def start(self, config: dict, defaults: dict, resume: bool,
            resumable: tuple[str, ...] = ()) -> None:
    """Writes config.json for a new run, or checks that a resumed run keeps it.

    `defaults` fills keys an older squish_tf did not write; keys in `resumable` may
    change on resume (settings that do not change what the run computes).
    """
    files.ensure_writable_dir(self.path)
    saved = self.read_config()
    if not resume:
      if saved is not None:
        raise UserError(f"{self.path} already holds a run; pass --resume to continue it, or "
                        f"choose a new --workdir")
      self.write_config(config)
      return
    if saved is None:
      raise UserError(f"--resume: {self.path} holds no run to resume (no {CONFIG}); "
                      f"drop --resume to start one")
    saved = {**defaults, **saved}
    diff = sorted(k for k in set(saved) | set(config)
                  if saved.get(k) != config.get(k) and k not in resumable)
    if diff:
      shown = ", ".join(f"{k}={saved.get(k)!r} (now {config.get(k)!r})" for k in diff)
      raise UserError(f"--resume with a different configuration: {shown}; rerun with the "
                      f"saved values or start a new --workdir")
    self.write_config(config)  # records a changed --generations
    self.clear_partials()

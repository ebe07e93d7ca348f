"""A run directory: the paths of everything a run writes, its records, and its start and resume.

Layout of a squish-evolve run (everything needed to resume it or report on it):
  config.json            the run's configuration
  labels.txt             class names, one per line
  gen_NNN/               one finished generation (NNN = 000 is the ancestor):
    model.keras          the squished dense network, trained (no constraints)
    model.keras.json     its provenance: data set, split seed, image size, classes
    masks.npz            its genome (boolean kernel masks by conv layer)
    spec.json            filters per conv layer
    model.tflite(.json)  float32 TFLite, verified against Keras (figures beside it)
    model_int8.tflite(.json)  int8 TFLite, with --int8
    metrics.json         this generation's metrics line
  metrics.jsonl          one line per finished generation, rebuilt from gen_*/metrics.json
  state.json             whether the run stopped early, and why
A generation is written to gen_NNN.partial/ and renamed when complete, so a run killed at
any moment loses at most the generation in progress. `check` says which file of a finished
generation is missing or damaged, and how to recover.

A squish-train directory is simpler (`TRAINING_OUTPUTS`, summary.json written last);
`check_training_dir` decides, before TensorFlow starts, whether one may be written.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import zipfile

import numpy as np

from squish_tf import files
from squish_tf.errors import UserError
from squish_tf.net import arch

CONFIG = "config.json"
METRICS = "metrics.jsonl"
STATE = "state.json"
LABELS = "labels.txt"
GEN_METRICS = "metrics.json"
# Every finished generation holds these; model_int8.tflite(.json) too when its metrics
# record an int8 file.
GEN_FILES = ("model.keras", "model.keras.json", "masks.npz", "spec.json", "model.tflite",
             "model.tflite.json", GEN_METRICS)
# What every generation's metrics.json holds (among much else); without them it is damaged.
RECORD_KEYS = ("generation", "top1_val", "params_total", "macs", "tflite_bytes")
# What a report and its release read from config.json.
REPORT_CONFIG_KEYS = ("dataset", "seed", "image_size")
# What a finished squish-train directory holds; any of them means there is work to lose.
SUMMARY = "summary.json"  # squish-train writes it last: a finished training run
CHECKPOINTS = "checkpoints"  # squish-train's newest epoch, until the run finishes
TRAINING_OUTPUTS = (SUMMARY, "model.keras", "model.keras.json", "model.tflite",
                    "model.tflite.json", "metrics.jsonl", "labels.txt", "tensorboard",
                    CHECKPOINTS)
_GEN_DIR = re.compile(r"^gen_(\d{3}|[1-9]\d{3,})$")  # gen_999, then gen_1000
_CHECKPOINT = re.compile(r"^epoch_(\d{4,})\.weights\.h5$")  # train/checkpoints.py writes them


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
    return [g for g in self.generation_dirs()
            if os.path.exists(os.path.join(self.gen_dir(g), holding))]

  def generation_holding(self, path: str) -> str | None:
    """The gen_NNN directory of this run that `path` is, or lies in, if any: its files are
    the run's record, which nothing else may overwrite."""
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(self.path))
    first = rel.split(os.sep)[0]
    return first if _GEN_DIR.match(first.removesuffix(".partial")) else None

  def generation_dirs(self) -> list[int]:
    """Every gen_NNN directory, finished or damaged (not the .partial ones)."""
    if not os.path.isdir(self.path):
      return []
    return sorted(int(m.group(1)) for m in map(_GEN_DIR.match, os.listdir(self.path))
                  if m and os.path.isdir(os.path.join(self.path, m.group(0))))

  def records(self) -> list[dict]:
    """The metrics line of every finished generation, in order."""
    return [self._record(g) for g in self.finished_generations()]

  def _record(self, g: int) -> dict:
    path = self.gen_file(g, GEN_METRICS)
    record = self.read_json(path)
    missing = [k for k in RECORD_KEYS if not isinstance(record, dict) or k not in record]
    if missing:
      raise UserError(f"{path} is damaged (lacks {', '.join(missing)}); {self._recovery(path)}")
    return record

  def read_json(self, path: str):
    """A JSON file of the run; a damaged one is a UserError naming it."""
    return files.read_json_or_say(path, self._recovery(path))

  def read_config(self) -> dict | None:
    """config.json as a dict, None when there is none."""
    path = self.file(CONFIG)
    if not os.path.exists(path):
      return None
    return self.read_json(path)

  def _recovery(self, path: str) -> str:
    """How to recover from a damaged or missing file of this run."""
    match = _GEN_DIR.match(os.path.basename(os.path.dirname(path)))
    if match:  # the count shows the cost: a copy of the file, if there is one, costs nothing
      return (f"put back a good copy, or {self._remove_from(int(match.group(1)))}")
    if os.path.basename(path) == LABELS:
      return "squish-evolve --resume on this run writes it again from the data set"
    if os.path.basename(path) == CONFIG:
      return "restore it, or start a new --workdir"
    if os.path.basename(path) == STATE:
      return "remove it (the run is then no longer marked as stopped early)"
    return "remove it; it is rebuilt from the generations"

  def _remove_from(self, g: int, first: int | None = None) -> str:
    """How to recompute from generation `first` (default `g`) on, gen_g being the first
    directory there is to remove."""
    first = g if first is None else first
    n = self.generation_dirs()[-1] - first + 1
    return (f"remove {self.gen_dir(g)} and every later gen_* directory, then rerun with "
            f"--resume to compute {n} generation{'s' * (n != 1)} again")

  def check(self) -> None:
    """Raises a UserError naming the first missing or damaged file of a finished generation.

    Generations must run 0, 1, 2, ... without a gap; each holds GEN_FILES, readable.
    """
    gens = self.generation_dirs()
    for expected, g in enumerate(gens):
      if g != expected:
        raise UserError(f"{self.gen_dir(expected)} is missing but {self.gen_dir(g)} exists; "
                        f"put it back, or {self._remove_from(g, expected)}")
      self.check_generation(g)

  def records_to_report(self) -> list[dict]:
    """The finished generations' records, once the run is whole and has one (squish-report
    calls it before TensorFlow starts)."""
    self.check()
    records = self.records()
    if not records:
      raise UserError(f"{self.path} has no finished generation to report; run squish-evolve "
                      f"--workdir={self.path} first")
    self.require(CONFIG, LABELS)  # the release's data set, seed and labels
    config = self.read_config()
    missing = [k for k in REPORT_CONFIG_KEYS if not isinstance(config, dict) or k not in config]
    if missing:
      raise UserError(f"{self.file(CONFIG)} lacks {', '.join(missing)}; "
                      f"{self._recovery(self.file(CONFIG))}")
    path = self.gen_file(records[0]["generation"], "model.keras.json")
    provenance = self.read_json(path)
    provenance = provenance.get("provenance") if isinstance(provenance, dict) else None
    if not isinstance(provenance, dict):
      raise UserError(f"{path} is damaged (no provenance); {self._recovery(path)}")
    classes = provenance.get("num_classes")
    labels = self.read_labels()
    if classes is not None and len(labels) != classes:
      raise UserError(f"{self.file(LABELS)} has {len(labels)} labels but the run's networks "
                      f"have {classes} classes; {self._recovery(self.file(LABELS))}")
    return records

  def require(self, *names: str) -> None:
    """Raises a UserError naming the first of these run files that is missing."""
    for name in names:
      if not os.path.isfile(self.file(name)):
        raise UserError(f"{self.file(name)} is missing; {self._recovery(self.file(name))}")

  def check_model(self, g: int) -> None:
    """Raises a UserError if generation g's model.keras does not read back whole."""
    check_keras_zip(self.gen_file(g, "model.keras"), self._recovery)

  def check_generation(self, g: int) -> None:
    for name in GEN_FILES:
      if not os.path.isfile(self.gen_file(g, name)):
        path = self.gen_file(g, name)
        raise UserError(f"{path} is missing; {self._recovery(path)}")
    record = self._record(g)
    spec = self.read_json(self.gen_file(g, "spec.json"))
    self.read_json(self.gen_file(g, "model.keras.json"))
    self.check_model(g)
    _check_masks(self.gen_file(g, "masks.npz"), spec, self._recovery)
    tflites = ["model.tflite"] + (["model_int8.tflite"] if record.get("tflite_int8_bytes")
                                  else [])
    for name in tflites:
      path = self.gen_file(g, name)
      if not os.path.isfile(path) or not os.path.isfile(path + ".json"):
        missing = path if not os.path.isfile(path) else path + ".json"
        raise UserError(f"{missing} is missing; {self._recovery(missing)}")
      _check_tflite(path, self.read_json(path + ".json"), self._recovery)

  def write_config(self, config: dict) -> None:
    files.write_json(self.file(CONFIG), config)

  def read_state(self) -> dict:
    path = self.file(STATE)
    return self.read_json(path) if os.path.exists(path) else {}

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

    A directory without a finished generation holds nothing to lose: it is started
    afresh, whatever config.json says. `defaults` fills keys an older squish_tf did not
    write; keys in `resumable` may change on resume (they do not change what is computed).
    The directory stays locked for this process (`files.hold`) until `files.release`.
    """
    if resume and not os.path.lexists(self.path):
      raise UserError(f"--resume: {self.path} does not exist, so there is no run to resume; "
                      f"drop --resume to start one")
    files.ensure_writable_dir(self.path)
    files.hold(self.path, "squish-evolve", lambda: self._refuse(resume))
    try:
      self._open(config, defaults, resume, resumable)
    except BaseException:
      files.release(self.path)
      raise

  def _holds_training_run(self) -> bool:
    return any(os.path.lexists(self.file(n)) for n in (SUMMARY, "model.keras", CHECKPOINTS))

  def _holds_a_run(self) -> bool:
    return bool(self.generation_dirs()) or os.path.exists(self.file(CONFIG))

  def require_run(self) -> None:
    """What a reader of a run (squish-report, squish-export) checks first, before TensorFlow
    starts: that --workdir is a squish-evolve run directory."""
    if not os.path.isdir(self.path):
      what = "is a file" if os.path.exists(self.path) else "does not exist"
      raise UserError(f"--workdir={self.path} {what}; pass a squish-evolve run directory")
    if self._holds_training_run():
      raise UserError(f"{self.path} holds a squish-train run, not a squish-evolve run (time "
                      f"its model.tflite with squish-bench); pass a squish-evolve run directory")
    if not self._holds_a_run():
      raise UserError(f"{self.path} is not a squish-evolve run (no {CONFIG}, no gen_*); pass "
                      f"the --workdir squish-evolve wrote")

  def _refuse(self, resume: bool) -> None:
    """A directory squish-evolve must not use: another kind of run, or nothing to resume."""
    if self._holds_training_run():
      raise UserError(f"{self.path} holds a squish-train run, not a squish-evolve run; choose "
                      f"another --workdir")
    if resume and not self._holds_a_run():
      raise UserError(f"--resume: {self.path} holds no run to resume (no {CONFIG}); "
                      f"drop --resume to start one")
    if not self.generation_dirs():  # generations without config.json are told under the lock
      _refuse_other_files(self.path, (CONFIG, files.LOCK), "squish-evolve")

  def _open(self, config: dict, defaults: dict, resume: bool, resumable: tuple[str, ...]):
    """`start`'s checks and writes, under its lock."""
    if not self.generation_dirs():
      self.clear_partials()
      for name in (STATE, METRICS):
        if os.path.exists(self.file(name)):
          os.remove(self.file(name))
      self.write_config(config)
      return
    saved = self.read_config()
    if saved is None:
      raise UserError(f"{self.path} holds generations but no {CONFIG}; restore it, or start a "
                      f"new --workdir")
    if not resume:
      raise UserError(f"{self.path} already holds a run; pass --resume to continue it, or "
                      f"choose a new --workdir")
    check_same_config({**defaults, **saved}, config, resumable)
    self.check()
    self.clear_partials()
    self.rebuild_metrics()  # metrics.jsonl is derived: a damaged one is simply rewritten
    self.write_config(config)  # records a changed --generations


def check_keras_zip(path: str, recovery) -> None:
  """A .keras file is a zip archive: every member must read back with its CRC."""
  try:
    with zipfile.ZipFile(path) as archive:
      bad = archive.testzip()
  except (zipfile.BadZipFile, OSError) as e:
    raise UserError(f"{path} is damaged ({e}); {recovery(path)}") from None
  if bad is not None:
    raise UserError(f"{path} is damaged (member {bad} fails its checksum); {recovery(path)}")


def _check_masks(path: str, spec: dict, recovery) -> None:
  try:
    with np.load(path) as saved:
      shapes = {name: saved[name].shape for name in saved.files}
  except Exception as e:  # noqa: BLE001 -- zip, pickle and format errors all mean "damaged"
    raise UserError(f"{path} is damaged ({type(e).__name__}: {e}); {recovery(path)}") from None
  for layer in arch.CONV_LAYERS:
    want = arch.kernel_shape(spec, layer)
    if shapes.get(layer) != want:
      raise UserError(f"{path} does not match spec.json ({layer}: {shapes.get(layer)}, "
                      f"expected {want}); {recovery(path)}")


def _check_tflite(path: str, figures, recovery) -> None:
  """A .tflite file has the TFL3 identifier, and the size and SHA-256 its figures recorded
  (files from before squish_tf recorded the digest are checked on their size)."""
  if not isinstance(figures, dict):
    raise UserError(f"{path}.json is damaged (not a JSON object); {recovery(path)}")
  with open(path, "rb") as f:
    blob = f.read()
  expected_bytes, expected_digest = figures.get("bytes"), figures.get("sha256")
  if blob[4:8] != b"TFL3" or (expected_bytes is not None and len(blob) != expected_bytes):
    raise UserError(f"{path} is damaged ({len(blob)} bytes, recorded {expected_bytes}); "
                    f"{recovery(path)}")
  if expected_digest is not None and files.digest(blob) != expected_digest:
    raise UserError(f"{path} is damaged (its SHA-256 is not the one recorded in {path}.json); "
                    f"{recovery(path)}")


def check_training_dir(workdir: str, overwrite: bool, resume: bool = False,
                       config: dict | None = None, defaults: dict | None = None) -> None:
  """Refuses a squish-train --workdir holding another run's results, unless told to overwrite
  them, and a --resume with nothing to resume, a damaged record, or another `config`
  (`defaults` fill keys an older squish_tf did not write); deletes nothing of the run's, only
  what killed writes left (squish-train calls it before TensorFlow starts, which may fail). A
  directory it accepts stays locked for this process (`files.hold`) until `files.release`."""
  if resume and overwrite:
    raise UserError("--resume continues a run and --overwrite replaces it; pass one of them")
  if resume and not os.path.lexists(workdir):
    raise UserError(f"--resume: {workdir} does not exist, so there is no run to resume; drop "
                    f"--resume to start one")
  files.ensure_writable_dir(workdir)
  files.hold(workdir, "squish-train", lambda: _refuse_training_dir(workdir, overwrite, resume))
  try:
    _check_training_run(workdir, overwrite, resume, config or {}, defaults or {})
  except BaseException:
    files.release(workdir)
    raise


def _refuse_training_dir(workdir: str, overwrite: bool, resume: bool) -> None:
  """A directory squish-train must not use: someone else's, a finished run (unless
  `overwrite`), or nothing to resume."""
  if os.path.isdir(os.path.join(workdir, "gen_000")):
    raise UserError(f"{workdir} holds a squish-evolve run; choose another --workdir")
  finished = os.path.exists(os.path.join(workdir, SUMMARY))
  if finished and not overwrite:
    raise UserError(f"{workdir} already holds a finished training run; choose a new --workdir, "
                    f"or pass --overwrite to replace it")
  started = os.path.exists(os.path.join(workdir, CONFIG))
  found = [n for n in TRAINING_OUTPUTS if os.path.lexists(os.path.join(workdir, n))]
  if found and not (started or finished):
    # squish-train writes config.json before any output: these are someone else's files
    raise UserError(f"{workdir} holds {', '.join(found)} but no squish-train config.json; "
                    f"choose another --workdir (squish-train would replace them)")
  if resume and not started:
    raise UserError(f"--resume: {workdir} holds no training run to resume (no {CONFIG}); "
                    f"drop --resume to start one")
  _refuse_other_files(workdir, (CONFIG, SUMMARY, files.LOCK), "squish-train")


def _refuse_other_files(workdir: str, marks: tuple[str, ...], tool: str) -> None:
  """A directory holding files but none of a run's `marks` is someone else's (a release, a
  project, a home directory): a run there would mix its files with theirs, and a later
  --overwrite or --publish_dir there could delete them."""
  every = os.listdir(workdir)
  names = sorted(n for n in every if not n.startswith("."))  # .DS_Store, .git*
  if names and not set(marks) & set(every):
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    raise UserError(f"{workdir} holds other files ({shown}) and no {tool} run; name a new or "
                    f"empty --workdir")


def _check_training_run(workdir: str, overwrite: bool, resume: bool, config: dict,
                        defaults: dict) -> None:
  """`check_training_dir`'s checks of the run the directory holds, under its lock. Without
  --resume, a run stopped before its first checkpoint holds nothing to lose: it starts
  afresh, as squish-evolve's does."""
  path, done = os.path.join(workdir, CONFIG), epochs_done(workdir)
  if not os.path.exists(path) or overwrite or (not resume and not done):
    return
  saved = files.read_json_or_say(path, "pass --overwrite to start again")
  if not isinstance(saved, dict):
    raise UserError(f"{path} is damaged (not a JSON object); pass --overwrite to start again")
  if not resume:  # an unfinished run: a finished one was refused
    raise UserError(f"{workdir} holds an unfinished training run ({done} of "
                    f"{saved.get('epochs', '?')} epochs done); pass --resume to continue it, "
                    f"or --overwrite to start again")
  check_same_config({**defaults, **saved}, config)
  _check_epoch_log(os.path.join(workdir, "metrics.jsonl"))
  _check_checkpoint(workdir)


def _check_epoch_log(path: str) -> None:
  """metrics.jsonl: one JSON object with an "epoch" per line (a resume keeps the lines up to
  its checkpoint)."""
  if not os.path.exists(path):
    return
  with open(path, "rb") as f:
    for number, line in enumerate(f, 1):
      try:
        record = json.loads(line) if line.strip() else {"epoch": 0}
      except ValueError:  # not JSON, or not UTF-8
        record = None
      if not (isinstance(record, dict) and isinstance(record.get("epoch"), int)):
        raise UserError(f"{path} is damaged (line {number} is not a JSON record of an epoch); "
                        f"remove it to resume without the finished epochs' log")


def _check_checkpoint(workdir: str) -> None:
  """The newest epoch checkpoint opens (a deeper fault is told when it loads)."""
  saved = saved_checkpoints(os.path.join(workdir, CHECKPOINTS))
  if not saved:
    return
  import h5py  # not at the top: only a resume reads checkpoints, and h5py loads slowly
  try:
    with h5py.File(saved[-1][1], "r"):
      pass
  except OSError as e:
    raise damaged_checkpoint(saved[-1][1], str(e)) from None


def damaged_checkpoint(path: str, why: str) -> UserError:
  """The one-line error for a checkpoint that cannot be read (only the newest is kept); of a
  reason over several lines (Keras lists every layer it could not load), the first."""
  why = (why.strip().splitlines() or ["unreadable"])[0]
  return UserError(f"{path} is damaged ({why}); delete it to resume from the first epoch, or "
                   f"pass --overwrite to start again")


def check_same_config(saved: dict, config: dict, resumable: tuple[str, ...] = ()) -> None:
  """A resumed run must compute what it started to: every key but `resumable` the same."""
  diff = sorted(k for k in set(saved) | set(config)
                if saved.get(k) != config.get(k) and k not in resumable)
  if diff:
    shown = ", ".join(f"{k}={saved.get(k)!r} (now {config.get(k)!r})" for k in diff)
    raise UserError(f"--resume with a different configuration: {shown}; rerun with the "
                    f"saved values or start a new --workdir")


def checkpoint_path(directory: str, epoch: int) -> str:
  """Where the checkpoint after `epoch` (counted from 1) goes."""
  return os.path.join(directory, f"epoch_{epoch:04d}.weights.h5")


def epochs_done(workdir: str) -> int:
  """The epochs an unfinished squish-train run in `workdir` has checkpointed."""
  saved = saved_checkpoints(os.path.join(workdir, CHECKPOINTS))
  return saved[-1][0] if saved else 0


def saved_checkpoints(directory: str) -> list[tuple[int, str]]:
  """(epoch, path) of every epoch checkpoint in `directory`, oldest first."""
  if not os.path.isdir(directory):
    return []
  return sorted((int(m.group(1)), os.path.join(directory, name))
                for name in os.listdir(directory) if (m := _CHECKPOINT.match(name)))


def claim_training_dir(workdir: str, overwrite: bool, resume: bool = False,
                       config: dict | None = None, defaults: dict | None = None) -> None:
  """Readies `workdir` for squish-train's outputs: `check_training_dir`, then, unless resuming,
  clears the run `overwrite` replaces (finished or not), or one with no epoch saved."""
  check_training_dir(workdir, overwrite, resume, config, defaults)
  if resume:
    return
  for name in TRAINING_OUTPUTS:
    path = os.path.join(workdir, name)
    if os.path.isdir(path):
      shutil.rmtree(path)
    elif os.path.exists(path):
      os.remove(path)

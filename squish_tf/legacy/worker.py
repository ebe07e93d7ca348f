"""Both sides of a legacy-Keras worker process: select tf_keras, run, answer in files.

tfmot 0.8.1 wraps only tf_keras models, and a process picks its Keras when TensorFlow is
first imported, so tfmot work runs in a child process. The driver (a Keras 3 process)
writes WORKDIR/request.json and its arrays, then `run_worker(module, WORKDIR)` starts
`python -m module WORKDIR` with legacy Keras selected; the child's `main` calls `serve`
before anything imports TensorFlow, and answers with WORKDIR/result.json, or error.json
({"type", "message"}: one line for the driver to raise). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback

import numpy as np
from absl import logging

from squish_tf import files
from squish_tf.errors import UserError
from squish_tf.net import arch

LEGACY_ENV = {"TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def serve(argv: list[str], usage: str, run) -> int:
  """The child: runs `run(WORKDIR)` under legacy Keras and writes its answer; returns the exit
  status."""
  if len(argv) != 2:
    print(f"usage: {usage} WORKDIR", file=sys.stderr)
    return 2
  if "tensorflow" in sys.modules:
    raise RuntimeError("TensorFlow was imported before legacy Keras could be selected")
  os.environ["TF_USE_LEGACY_KERAS"] = "1"  # must precede the first TensorFlow import
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  workdir = argv[1]
  try:
    files.write_json(os.path.join(workdir, "result.json"), run(workdir))
    return 0
  except Exception as e:  # noqa: BLE001 -- every failure goes back to the driver as one line
    if not isinstance(e, UserError):  # a user's mistake is the driver's one line, no more
      traceback.print_exc()
    files.write_json(os.path.join(workdir, "error.json"),
                     {"type": "UserError" if isinstance(e, UserError) else type(e).__name__,
                      "message": " ".join(str(e).split()) or type(e).__name__})
    return 1


def run_worker(module: str, workdir: str, timeout: float | None = None,
               capture: bool = True) -> dict:
  """The driver: runs `python -m module WORKDIR` under legacy Keras; returns result.json.

  The child's UserError and ValueError come back as the same type with its one line;
  anything else is a RuntimeError. With `capture=False` its log goes to this terminal.
  """
  package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  env = {**os.environ, **LEGACY_ENV,
         "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
  try:
    proc = subprocess.run([sys.executable, "-m", module, workdir], env=env,
                          capture_output=capture, text=True, timeout=timeout)
  except subprocess.TimeoutExpired:
    raise RuntimeError(f"the legacy-Keras worker {module} did not finish within {timeout} s"
                       ) from None
  result, error = os.path.join(workdir, "result.json"), os.path.join(workdir, "error.json")
  if proc.returncode == 0 and os.path.exists(result):
    return files.read_json(result)
  if capture:
    logging.info("%s output:\n%s", module, proc.stderr[-20000:])
  if os.path.exists(error):
    err = files.read_json(error)
    if err["type"] == "UserError":
      raise UserError(err["message"])
    if err["type"] == "ValueError":
      raise ValueError(err["message"])
    raise RuntimeError(f"{module} failed: {err['type']}: {err['message']}")
  last = ((proc.stderr or "").strip().splitlines() or ["no output"])[-1]
  raise RuntimeError(f"{module} exited with status {proc.returncode}: {last}")


def write_inputs(workdir: str, request: dict, weights: dict, masks: dict | None = None,
                 arrays: dict | None = None) -> None:
  """The driver's half: request.json, weights.npz (`<layer>.kernel`/`.bias`), masks.npz
  (optional, boolean kernel masks by layer) and data.npz (any arrays)."""
  np.savez(os.path.join(workdir, "weights.npz"),
           **{f"{n}.{part}": w for n, pair in weights.items()
              for part, w in zip(("kernel", "bias"), pair)})
  if masks is not None:
    missing = [n for n in arch.CONV_LAYERS if n not in masks]
    if missing:
      raise ValueError(f"masks are missing layers {missing}")
    for name in arch.CONV_LAYERS:
      if masks[name].shape != weights[name][0].shape:
        raise ValueError(f"{name}: mask shape {masks[name].shape} does not match the kernel "
                         f"{weights[name][0].shape}")
    np.savez_compressed(os.path.join(workdir, "masks.npz"),
                        **{n: np.asarray(masks[n], bool) for n in arch.CONV_LAYERS})
  np.savez(os.path.join(workdir, "data.npz"), **(arrays or {}))
  files.write_json(os.path.join(workdir, "request.json"), request)


def read_inputs(workdir: str):
  """The child's half: (request, weights, masks or None, arrays) as `write_inputs` wrote them."""
  request = files.read_json(os.path.join(workdir, "request.json"))
  with np.load(os.path.join(workdir, "weights.npz")) as saved:
    weights = {name: (saved[f"{name}.kernel"], saved[f"{name}.bias"]) for name in request["spec"]}
  masks = None
  if os.path.exists(os.path.join(workdir, "masks.npz")):
    with np.load(os.path.join(workdir, "masks.npz")) as saved:
      masks = {name: saved[name].astype(bool) for name in request["spec"]}
  with np.load(os.path.join(workdir, "data.npz")) as saved:
    arrays = {k: saved[k] for k in saved.files}
  return request, weights, masks, arrays

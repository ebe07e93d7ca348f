"""The child side of a legacy-Keras worker process: select tf_keras, run, answer in files.

tfmot 0.8.1 wraps only tf_keras models, and a process picks its Keras when TensorFlow is
first imported, so tfmot work runs in a child process whose `main` calls `serve` before
anything imports TensorFlow. The driver reads WORKDIR/result.json, or error.json
({"type", "message"}: one line to raise).
"""

from __future__ import annotations

import os
import sys
import traceback


def serve(argv: list[str], usage: str, run) -> int:
  """Runs `run(WORKDIR)` under legacy Keras and writes its answer; returns the exit status."""
  if len(argv) != 2:
    print(f"usage: {usage} WORKDIR", file=sys.stderr)
    return 2
  if "tensorflow" in sys.modules:
    raise RuntimeError("TensorFlow was imported before legacy Keras could be selected")
  os.environ["TF_USE_LEGACY_KERAS"] = "1"  # must precede the first TensorFlow import
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  from squish_tf import files
  from squish_tf.errors import UserError
  workdir = argv[1]
  try:
    files.write_json(os.path.join(workdir, "result.json"), run(workdir))
    return 0
  except Exception as e:  # noqa: BLE001 -- every failure goes back to the driver as one line
    traceback.print_exc()
    files.write_json(os.path.join(workdir, "error.json"),
                     {"type": "UserError" if isinstance(e, UserError) else type(e).__name__,
                      "message": " ".join(str(e).split()) or type(e).__name__})
    return 1

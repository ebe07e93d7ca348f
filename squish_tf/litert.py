"""Keras -> float32 .tflite, verified against Keras before it is kept; LiteRT evaluation."""

from __future__ import annotations

import contextlib
import io
import os

import numpy as np
import tensorflow as tf

from squish_tf import files
from squish_tf.errors import UserError

# A float32 .tflite of the same graph differs from Keras by float rounding only.
MAX_ABS_DIFF = 1e-4
MIN_AGREEMENT = 0.99


def interpreter(model_content: bytes | None = None, model_path: str | None = None,
                threads: int | None = None):
  """A LiteRT interpreter; a missing or broken file is a UserError naming it."""
  from ai_edge_litert.interpreter import Interpreter
  if model_path is not None:
    if not os.path.isfile(model_path):
      raise UserError(f"{model_path}: no such .tflite file; check the path")
  try:
    return Interpreter(model_content=model_content, model_path=model_path, num_threads=threads)
  except (ValueError, RuntimeError) as e:
    what = model_path or "model bytes"
    raise UserError(f"{what}: not a valid .tflite model ({str(e).splitlines()[0]}); "
                    f"re-export it (it may be truncated)") from None


def to_tflite(model) -> bytes:
  """Float32 TFLite flatbuffer of a Keras model."""
  # from_keras_model exports a SavedModel first and prints its whole signature to
  # stdout; keep that out of the user's terminal. (from_concrete_functions without a
  # trackable object holding the variables yields a weightless file with NaN outputs on
  # TF 2.21; with a tf.Module holding them it works and saves ~0.2 s of ~1 s per
  # conversion: measured, not adopted.)
  with contextlib.redirect_stdout(io.StringIO()):
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def predict(interp, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
  """Runs `images` (float32 NHWC) through a LiteRT interpreter in batches."""
  inp = interp.get_input_details()[0]
  out = interp.get_output_details()[0]
  results, current = [], None
  for start in range(0, len(images), batch_size):
    batch = images[start:start + batch_size]
    if current != batch.shape:
      interp.resize_tensor_input(inp["index"], batch.shape, strict=False)
      interp.allocate_tensors()
      current = batch.shape
    interp.set_tensor(inp["index"], batch.astype(inp["dtype"], copy=False))
    interp.invoke()
    results.append(interp.get_tensor(out["index"]).copy())
  return np.concatenate(results)


def verify(tflite_bytes: bytes, keras_model, images: np.ndarray) -> dict:
  """Compares the .tflite with Keras on real inputs: max |diff| and argmax agreement."""
  expected = keras_model.predict(images, batch_size=64, verbose=0)
  got = predict(interpreter(model_content=tflite_bytes), images)
  return {
      "max_abs_diff": float(np.max(np.abs(expected - got))),
      "argmax_agreement": float(np.mean(expected.argmax(1) == got.argmax(1))),
      "images": int(len(images)),
  }


def export_verified(keras_model, images: np.ndarray, path: str) -> dict:
  """Converts, verifies, and only then writes `path` (atomically) and `path.json` beside it."""
  data = to_tflite(keras_model)
  figures = verify(data, keras_model, images)
  if figures["max_abs_diff"] > MAX_ABS_DIFF or figures["argmax_agreement"] < MIN_AGREEMENT:
    raise RuntimeError(f"TFLite conversion disagrees with Keras: {figures}; file not written")
  figures["bytes"] = len(data)
  files.write_bytes(path, data)
  files.write_json(path + ".json", figures)
  return figures


def top1(tflite_path: str, images: np.ndarray, labels: np.ndarray, threads: int | None = None) -> float:
  """Top-1 of a .tflite over (images, labels), through the LiteRT interpreter."""
  probs = predict(interpreter(model_path=tflite_path, threads=threads), images)
  return float(np.mean(probs.argmax(1) == labels))

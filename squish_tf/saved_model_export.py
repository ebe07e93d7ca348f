"""Keras -> serving SavedModel with one named signature, checked against Keras before it is kept.

The signature is what TF Serving, TF-TRT and `tf.saved_model.load` callers use:
`serving_default(image: float32[batch, S, S, 3]) -> {"probabilities": float32[batch, classes]}`,
with a dynamic batch dimension. The input follows `preprocess.contract(S)`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

SIGNATURE = "serving_default"
INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
# The same float32 graph run by TensorFlow instead of Keras: float rounding only.
MAX_ABS_DIFF = 1e-4
MIN_AGREEMENT = 0.99


@contextlib.contextmanager
def atomic_dir(path: str):
  """Yields a temporary directory beside `path`; it replaces `path` only on success.

  (A directory counterpart of `files.atomic_path`: a reader never sees a half-written
  SavedModel or engine bundle, and a failed export leaves the old one in place.)
  """
  parent = os.path.dirname(os.path.abspath(path))
  os.makedirs(parent, exist_ok=True)
  tmp = tempfile.mkdtemp(dir=parent, prefix=".tmp-" + os.path.basename(path) + "-")
  umask = os.umask(0)
  os.umask(umask)
  os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's 0700 would hide a deliverable from other users
  try:
    yield tmp
    old = None
    if os.path.lexists(path):  # os.replace cannot overwrite a non-empty directory
      old = tempfile.mkdtemp(dir=parent, prefix=".old-")
      os.rmdir(old)
      os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
      shutil.rmtree(old) if os.path.isdir(old) else os.remove(old)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)


def input_spec(image_size: int) -> tf.TensorSpec:
  return tf.TensorSpec((None, image_size, image_size, 3), tf.float32, name=INPUT_NAME)


def write_unchecked(keras_model, out_dir: str) -> None:
  """Writes the serving SavedModel of `keras_model` to `out_dir` (new or empty)."""
  # A plain tf.Module rather than keras.export.ExportArchive: on Keras 3.15 the
  # archive stores every weight twice (half the file is a second copy).
  image_size = int(keras_model.input_shape[1])

  @tf.function(input_signature=[input_spec(image_size)])
  def serve(image):
    return {OUTPUT_NAME: keras_model(image, training=False)}

  module = tf.Module()
  module.model_weights = [w.value for w in keras_model.weights]  # the tf.Variables behind them
  module.serve = serve
  tf.saved_model.save(module, out_dir, signatures={SIGNATURE: serve})


def signature(saved_model_dir: str):
  """The serving signature of a SavedModel: call it as `fn(image=batch)[OUTPUT_NAME]`."""
  return tf.saved_model.load(saved_model_dir).signatures[SIGNATURE]


def predict(fn, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
  out = [fn(**{INPUT_NAME: tf.constant(images[i:i + batch_size])})[OUTPUT_NAME].numpy()
         for i in range(0, len(images), batch_size)]
  return np.concatenate(out)


def compare(expected: np.ndarray, got: np.ndarray) -> dict:
  """Max |difference| of probabilities and top-1 agreement of two predictions."""
  return {
      "max_abs_diff": float(np.max(np.abs(expected - got))),
      "argmax_agreement": float(np.mean(expected.argmax(1) == got.argmax(1))),
      "images": int(len(expected)),
  }


def export_verified(keras_model, images: np.ndarray, out_dir: str) -> dict:
  """Writes the SavedModel, checks its signature against Keras on `images`, then keeps it."""
  expected = keras_model.predict(images, batch_size=64, verbose=0)
  with atomic_dir(out_dir) as tmp:
    write_unchecked(keras_model, tmp)
    figures = compare(expected, predict(signature(tmp), images))
    if figures["max_abs_diff"] > MAX_ABS_DIFF or figures["argmax_agreement"] < MIN_AGREEMENT:
      raise RuntimeError(f"SavedModel disagrees with Keras: {figures}; not written")
  return figures

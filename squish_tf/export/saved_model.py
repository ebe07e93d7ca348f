"""Keras -> serving SavedModel with one named signature, checked against Keras before it is kept.

The signature is what TF Serving, TF-TRT and `tf.saved_model.load` callers use:
`serving_default(image: float32[batch, S, S, 3]) -> {"probabilities": float32[batch, classes]}`,
with a dynamic batch dimension. The input follows `squish_tf.data.preprocess.contract(S)`.
ONNX and TensorRT exports use the same tensor names.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from squish_tf import files
from squish_tf.export import verify
from squish_tf.net import model as model_lib

SIGNATURE = "serving_default"
INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
SAVED_MODEL_FILE = "saved_model.pb"  # what marks a SavedModel directory
# The same float32 graph run by TensorFlow instead of Keras: float rounding only.
FLOAT32 = verify.Tolerance("SavedModel", 1e-4, 0.99)


def input_spec(image_size: int) -> tf.TensorSpec:
  return tf.TensorSpec((None, image_size, image_size, 3), tf.float32, name=INPUT_NAME)


def serving_function(keras_model):
  """The tf.function every serving export traces: image in, {probabilities} out."""
  @tf.function(input_signature=[input_spec(int(keras_model.input_shape[1]))])
  def serve(image):
    return {OUTPUT_NAME: keras_model(image, training=False)}
  return serve


def write_unchecked(keras_model, out_dir: str) -> None:
  """Writes the serving SavedModel of `keras_model` to `out_dir` (new or empty), in its
  release form (`squish_tf.net.model.release_form`): its input size is fixed anyway."""
  keras_model = model_lib.release_form(keras_model)
  # A plain tf.Module rather than keras.export.ExportArchive: on Keras 3.15 the
  # archive stores every weight twice (half the file is a second copy).
  serve = serving_function(keras_model)
  module = tf.Module()
  module.model_weights = [w.value for w in keras_model.weights]  # the tf.Variables behind them
  module.serve = serve
  tf.saved_model.save(module, out_dir, signatures={SIGNATURE: serve})


def signature(saved_model_dir: str):
  """The serving signature of a SavedModel: call it as `fn(image=batch)[OUTPUT_NAME]`."""
  return tf.saved_model.load(saved_model_dir).signatures[SIGNATURE]


def predict(fn, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
  return verify.in_batches(lambda b: fn(**{INPUT_NAME: tf.constant(b)})[OUTPUT_NAME].numpy(),
                           images, batch_size)


def export_verified(keras_model, images: np.ndarray, out_dir: str) -> dict:
  """Writes the SavedModel, checks its signature against the Keras model as given (not its
  release form) on `images`, then keeps it."""
  expected = verify.keras_predict(keras_model, images)
  with files.atomic_dir(out_dir, SAVED_MODEL_FILE, "--out") as tmp:
    write_unchecked(keras_model, tmp)
    figures = verify.compare(expected, predict(signature(tmp), images))
    FLOAT32.enforce(figures, out_dir)
  return figures

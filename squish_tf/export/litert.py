"""Keras -> float32 .tflite, checked through the LiteRT interpreter (`runtime`) before it is
kept."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import tensorflow as tf

from squish_tf import errors
from squish_tf.export import runtime, verify
from squish_tf.net import model as model_lib

# A float32 .tflite of the same graph differs from Keras by float rounding only.
MAX_ABS_DIFF = 1e-4
MIN_AGREEMENT = 0.99
FLOAT32 = verify.Tolerance("TFLite conversion", MAX_ABS_DIFF, MIN_AGREEMENT)


def converter(model) -> tf.lite.TFLiteConverter:
  """A TFLite converter of a Keras or tf_keras model's inference pass (training=False).

  The model is traced here once and converted from that function. TF 2.21's
  `from_keras_model` exports the whole model as a SavedModel first, which took longer than
  the conversion itself (a toy SqueezeNet on 2 cores: 3.3-4.3 s against 1.4-2.0 s; its
  tf_keras QAT twin 20 s against 5 s), for the same weights and tensors. The signature is
  `serving_default`: `image` -> `output_0` for either Keras (from_keras_model named a
  tf_keras output after its last layer). The trackable object must hold the variables the
  trace captured: the converter saves it to freeze them, and without them the file has no
  weights and computes NaN.
  """
  inputs = getattr(model, "inputs", None)
  if not inputs or len(inputs) != 1:  # an unbuilt or multi-input model: Keras's own export
    return tf.lite.TFLiteConverter.from_keras_model(model)
  [image] = inputs
  spec = tf.TensorSpec([None, *image.shape[1:]], image.dtype, name=image.name)
  traced = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
  holder = tf.Module()
  holder.captured = list(traced.variables)
  return tf.lite.TFLiteConverter.from_concrete_functions([traced], holder)


def to_tflite(model, fold: bool = True) -> bytes:
  """Float32 TFLite flatbuffer of a Keras model; with `fold`, a SqueezeNet stored without its
  inert taps (`squish_tf.net.model.release_form`)."""
  return quiet_convert(converter(model_lib.release_form(model) if fold else model))


def quiet_convert(converter) -> bytes:
  """converter.convert(), without what it prints to stdout (Keras's SavedModel export, which
  `converter` falls back on, dumps the signature there). A Ctrl-C during a conversion can
  land in one of TensorFlow's finalizers, which swallow it: `errors.check_signals` raises
  it."""
  with contextlib.redirect_stdout(io.StringIO()):
    blob = converter.convert()
  errors.check_signals()
  return blob


def export_verified(keras_model, images: np.ndarray, path: str) -> dict:
  """Converts, checks against Keras on `images`, and only then writes `path` and `path.json`."""
  return verify.export_bytes(path, to_tflite(keras_model),
                             lambda blob: runtime.predict(runtime.interpreter(model_content=blob),
                                                            images),
                             verify.keras_predict(keras_model, images), FLOAT32)

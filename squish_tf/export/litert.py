"""TFLite through LiteRT: Keras -> float32 .tflite verified before it is kept, and inference.

`predict` runs any .tflite, float32 or quantized: inputs are quantized and outputs
dequantized with the tensors' own (scale, zero point), so callers always pass float
images and get float probabilities.
"""

from __future__ import annotations

import contextlib
import io
import os
import re

import numpy as np
import tensorflow as tf

from squish_tf.errors import UserError
from squish_tf.export import verify
from squish_tf.net import model as model_lib

# A float32 .tflite of the same graph differs from Keras by float rounding only.
MAX_ABS_DIFF = 1e-4
MIN_AGREEMENT = 0.99
FLOAT32 = verify.Tolerance("TFLite conversion", MAX_ABS_DIFF, MIN_AGREEMENT)


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


def folded_layers(interp) -> tuple[str, ...]:
  """The fire modules' expand3x3 layers a file stores as 1x1 (`model_lib.release_form`): the
  file computes its network only at sizes where those layers are inert (`arch.inert_taps`)."""
  tensors = {d["index"]: d for d in interp.get_tensor_details()}
  found = []
  for op in interp._get_ops_details():  # the only way LiteRT names a conv's filter tensor
    if op["op_name"] != "CONV_2D" or len(op["inputs"]) < 2:
      continue
    weight = tensors.get(op["inputs"][1])
    layer = weight and re.search(r"(fire\d+_expand3x3)", weight["name"])  # also quant_fire6_...
    if layer and tuple(weight["shape"][1:3]) == (1, 1):
      found.append(layer.group(1))
  return tuple(found)


def quiet_convert(converter) -> bytes:
  """converter.convert(), without what it prints to stdout (Keras's SavedModel export, which
  `converter` falls back on, dumps the signature there)."""
  with contextlib.redirect_stdout(io.StringIO()):
    return converter.convert()


def quantize_input(images: np.ndarray, detail: dict) -> np.ndarray:
  """float inputs -> the interpreter's input dtype, per its (scale, zero point).

  round() is numpy's, half to even, in float32: the contract the Android core follows.
  """
  dtype = np.dtype(detail["dtype"])
  scale, zero_point = detail["quantization"]
  if dtype == np.float32 or scale == 0.0:
    return images.astype(dtype, copy=False)
  info = np.iinfo(dtype)
  q = np.round(np.asarray(images, np.float32) / np.float32(scale)) + zero_point
  return np.clip(q, info.min, info.max).astype(dtype)


def dequantize_output(values: np.ndarray, detail: dict) -> np.ndarray:
  scale, zero_point = detail["quantization"]
  if values.dtype == np.float32 or scale == 0.0:
    return values.astype(np.float32, copy=False)
  return (values.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)


def io_details(interp) -> dict:
  """Dtype and (scale, zero point) of the input and output tensors, as plain values."""
  out = {}
  for side, detail in (("input", interp.get_input_details()[0]),
                       ("output", interp.get_output_details()[0])):
    scale, zero_point = detail["quantization"]
    out[side] = {"dtype": np.dtype(detail["dtype"]).name, "scale": float(scale),
                 "zero_point": int(zero_point)}
  return out


def predict(interp, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
  """Float probabilities of a float32 or quantized interpreter on float NHWC images."""
  inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
  current = []

  def run(batch):
    batch = quantize_input(np.asarray(batch, np.float32), inp)
    if current != [batch.shape]:
      interp.resize_tensor_input(inp["index"], batch.shape, strict=False)
      interp.allocate_tensors()
      current[:] = [batch.shape]
    interp.set_tensor(inp["index"], batch)
    interp.invoke()
    return dequantize_output(interp.get_tensor(out["index"]), out).copy()

  return verify.in_batches(run, images, batch_size)


def verify_float(tflite_bytes: bytes, keras_model, images: np.ndarray) -> dict:
  """Compares a float32 .tflite with Keras on real inputs: max |diff| and argmax agreement."""
  return verify.compare(verify.keras_predict(keras_model, images),
                        predict(interpreter(model_content=tflite_bytes), images))


def export_verified(keras_model, images: np.ndarray, path: str) -> dict:
  """Converts, checks against Keras on `images`, and only then writes `path` and `path.json`."""
  return verify.export_bytes(path, to_tflite(keras_model),
                             lambda blob: predict(interpreter(model_content=blob), images),
                             verify.keras_predict(keras_model, images), FLOAT32)


def top1(tflite_path: str, images: np.ndarray, labels: np.ndarray,
         threads: int | None = None) -> float:
  """Top-1 of a (float32 or int8) .tflite over (images, labels), through LiteRT."""
  probs = predict(interpreter(model_path=tflite_path, threads=threads), images)
  return verify.top1(probs, labels)

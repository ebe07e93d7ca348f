"""Full-integer (int8) TFLite: conversion, LiteRT inference with quantized I/O, verified writes.

No Keras import here: the legacy-Keras QAT worker (`squish_tf.qat_worker`) converts and
verifies its tf_keras model with these same functions. `model` is whatever Keras the
calling process uses; TFLiteConverter.from_keras_model takes both.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import tensorflow as tf

from squish_tf import files, litert
from squish_tf.config import INT8_GRANULARITIES as GRANULARITIES
from squish_tf.errors import UserError

IO_DTYPES = {"int8": tf.int8, "uint8": tf.uint8}
# GRANULARITIES: per_channel costs each output channel a float32 scale and an int64 zero
# point, for its weights and again for its bias: 25.7 KB of SquishedNet-2's 156.9 KB int8
# file (measured); per_tensor stores one per tensor.
# Representative images the converter calibrates activation ranges on.
REPRESENTATIVE_IMAGES = 200
# An int8 file is kept only if its top-1 agrees with the float model on this fraction
# of the validation images. Quantization flips low-margin predictions, so this is below
# the float32 .tflite's 0.99 (squish_tf.litert.MIN_AGREEMENT).
MIN_AGREEMENT = 0.95


def check_io_dtype(io_dtype: str) -> str:
  if io_dtype not in IO_DTYPES:
    raise ValueError(f"int8 input/output type must be one of {sorted(IO_DTYPES)}, got {io_dtype!r}")
  return io_dtype


def convert_int8(model, representative_images: np.ndarray, io_dtype: str = "int8",
                 granularity: str = "per_channel") -> bytes:
  """Full-integer .tflite: int8 weights and activations, `io_dtype` input and output.

  Args:
    model: a Keras model (Keras 3 or tf_keras; a QAT model keeps its trained ranges).
    representative_images: float32 NHWC inputs from the training split; the converter
      runs them one at a time to calibrate activation ranges.
    io_dtype: "int8" or "uint8" for the model's input and output tensors.
    granularity: "per_channel" or "per_tensor" weight scales (see GRANULARITIES).
  """
  check_io_dtype(io_dtype)
  if granularity not in GRANULARITIES:
    raise ValueError(f"int8 granularity must be one of {GRANULARITIES}, got {granularity!r}")
  images = np.asarray(representative_images, dtype=np.float32)
  if images.ndim != 4 or len(images) == 0:
    raise ValueError(f"representative images must be a non-empty NHWC batch, got shape "
                     f"{images.shape}")

  def representative():
    for image in images:
      yield [image[None]]

  converter = tf.lite.TFLiteConverter.from_keras_model(model)
  converter.optimizations = [tf.lite.Optimize.DEFAULT]
  converter.representative_dataset = representative
  # Only integer kernels: a float fallback op would make a silently mixed model.
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
  converter.inference_input_type = IO_DTYPES[io_dtype]
  converter.inference_output_type = IO_DTYPES[io_dtype]
  if granularity == "per_tensor":
    # TF 2.21's converter exposes this switch only as a private attribute; fail clearly
    # rather than silently write per-channel scales if a release renames it.
    if not hasattr(converter, "_experimental_disable_per_channel"):
      raise UserError(f"TensorFlow {tf.__version__}'s TFLite converter has no per-tensor "
                      f"switch; use per_channel int8")
    converter._experimental_disable_per_channel = True
  with contextlib.redirect_stdout(io.StringIO()):  # SavedModel signature dump, see litert
    return converter.convert()


def io_details(interp) -> dict:
  """Dtype and (scale, zero point) of the input and output tensors, as plain values."""
  out = {}
  for side, detail in (("input", interp.get_input_details()[0]),
                       ("output", interp.get_output_details()[0])):
    scale, zero_point = detail["quantization"]
    out[side] = {"dtype": np.dtype(detail["dtype"]).name, "scale": float(scale),
                 "zero_point": int(zero_point)}
  return out


def quantize_input(images: np.ndarray, detail: dict) -> np.ndarray:
  """float inputs -> the interpreter's input dtype, per its (scale, zero point)."""
  dtype = np.dtype(detail["dtype"])
  scale, zero_point = detail["quantization"]
  if dtype == np.float32 or scale == 0.0:
    return images.astype(dtype, copy=False)
  info = np.iinfo(dtype)
  q = np.round(images / scale) + zero_point
  return np.clip(q, info.min, info.max).astype(dtype)


def dequantize_output(values: np.ndarray, detail: dict) -> np.ndarray:
  scale, zero_point = detail["quantization"]
  if values.dtype == np.float32 or scale == 0.0:
    return values.astype(np.float32, copy=False)
  return (values.astype(np.float32) - zero_point) * scale


def predict(interp, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
  """Float probabilities from a (possibly) quantized interpreter on float NHWC images."""
  inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
  results, current = [], None
  for start in range(0, len(images), batch_size):
    batch = quantize_input(np.asarray(images[start:start + batch_size], np.float32), inp)
    if current != batch.shape:
      interp.resize_tensor_input(inp["index"], batch.shape, strict=False)
      interp.allocate_tensors()
      current = batch.shape
    interp.set_tensor(inp["index"], batch)
    interp.invoke()
    results.append(dequantize_output(interp.get_tensor(out["index"]), out))
  return np.concatenate(results)


def verify_int8(tflite_bytes: bytes, keras_model, images: np.ndarray, labels: np.ndarray) -> dict:
  """Top-1 of the int8 file and of the float model on real images, and their agreement."""
  expected = np.asarray(keras_model.predict(images, batch_size=64, verbose=0))
  interp = litert.interpreter(model_content=tflite_bytes)
  got = predict(interp, images)
  labels = np.asarray(labels)
  # int8 outputs tie often (seen: most disagreements on a toy digits model are ties,
  # which argmax breaks towards the lower class); counting the float argmax among the
  # tied maxima says how many flips are ties rather than a different winner.
  float_top = expected.argmax(1)
  in_tied_max = got[np.arange(len(got)), float_top] == got.max(1)
  return {
      "agreement": float(np.mean(float_top == got.argmax(1))),
      "agreement_with_ties": float(np.mean(in_tied_max)),
      "top1_float": float(np.mean(expected.argmax(1) == labels)),
      "top1_int8": float(np.mean(got.argmax(1) == labels)),
      "max_abs_diff": float(np.max(np.abs(expected - got))),
      "images": int(len(images)),
      "bytes": len(tflite_bytes),
      "io": io_details(interp),
  }


def write_verified(tflite_bytes: bytes, figures: dict, path: str,
                   min_agreement: float = MIN_AGREEMENT) -> dict:
  """Writes `path` and `path.json` (figures) atomically, unless agreement is below the bar."""
  if figures["agreement"] < min_agreement:
    raise UserError(
        f"{path}: the int8 model agrees with the float model on only "
        f"{figures['agreement']:.1%} of {figures['images']} validation images (needs "
        f"{min_agreement:.0%}); not written: give more representative images or use "
        f"quantization-aware training (--format=tflite_qat)")
  figures = {**figures, "bytes": len(tflite_bytes), "min_agreement": min_agreement}
  files.write_bytes(path, tflite_bytes)
  files.write_json(path + ".json", figures)
  return figures


def export_int8(model, representative_images: np.ndarray, images: np.ndarray,
                labels: np.ndarray, path: str, io_dtype: str = "int8",
                min_agreement: float = MIN_AGREEMENT, granularity: str = "per_channel") -> dict:
  """Converts to int8, verifies on (images, labels) from validation, then writes `path`.

  Returns the figures also written to `path.json`: agreement, top1_float, top1_int8,
  bytes, the I/O dtype and quantization parameters.
  """
  data = convert_int8(model, representative_images, io_dtype, granularity)
  figures = verify_int8(data, model, images, labels)
  return write_verified(data, {**figures, "io_dtype": io_dtype, "granularity": granularity},
                        path, min_agreement)


def top1(tflite_path: str, images: np.ndarray, labels: np.ndarray, threads: int | None = None) -> float:
  """Top-1 of a (float or int8) .tflite over (images, labels) through LiteRT."""
  probs = predict(litert.interpreter(model_path=tflite_path, threads=threads), images)
  return float(np.mean(probs.argmax(1) == np.asarray(labels)))

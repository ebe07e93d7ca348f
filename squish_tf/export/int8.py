"""Full-integer (int8) TFLite: conversion, and verified writes.

No Keras import here: the legacy-Keras QAT worker (`squish_tf.legacy.qat_worker`) converts
and verifies its tf_keras model with these same functions. `model` is whatever Keras the
calling process uses; `litert.converter` takes both. Inference with quantized
I/O is `squish_tf.export.runtime.predict`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from squish_tf.config import INT8_GRANULARITIES as GRANULARITIES
from squish_tf.errors import UserError
from squish_tf.export import litert, runtime, verify
from squish_tf.net import model as model_lib

IO_DTYPES = {"int8": tf.int8, "uint8": tf.uint8}
# GRANULARITIES: per_channel costs each output channel a float32 scale and an int64 zero
# point, for its weights and again for its bias: 25.7 KB of SquishedNet-2's 156.9 KB int8
# file (measured); per_tensor stores one per tensor.
# Representative images the converter calibrates activation ranges on.
REPRESENTATIVE_IMAGES = 200
# An int8 file is kept only if its top-1 agrees with the float model on this fraction
# of the validation images. Quantization flips low-margin predictions, so this is below
# the float32 .tflite's 0.99 (squish_tf.export.litert.MIN_AGREEMENT).
MIN_AGREEMENT = 0.95


def tolerance(min_agreement: float = MIN_AGREEMENT) -> verify.Tolerance:
  return verify.Tolerance(
      "the int8 model", None, min_agreement, reference="the float model",
      fix="give more representative images or use quantization-aware training "
          "(--format=tflite_qat)")


def check_io_dtype(io_dtype: str) -> str:
  if io_dtype not in IO_DTYPES:
    raise UserError(f"int8 input/output type (--io_dtype) must be one of {sorted(IO_DTYPES)}, "
                    f"got {io_dtype!r}")
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
    raise UserError(f"int8 granularity (--int8_granularity) must be one of {GRANULARITIES}, "
                    f"got {granularity!r}")
  images = np.asarray(representative_images, dtype=np.float32)
  if images.ndim != 4 or len(images) == 0:
    raise ValueError(f"representative images must be a non-empty NHWC batch, got shape "
                     f"{images.shape}")

  def representative():
    for image in images:
      yield [image[None]]

  converter = litert.converter(model_lib.release_form(model))
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
  return litert.quiet_convert(converter)


def verify_int8(tflite_bytes: bytes, keras_model, images: np.ndarray, labels: np.ndarray) -> dict:
  """Top-1 of the int8 file and of the float model on real images, and their agreement."""
  interp = runtime.interpreter(model_content=tflite_bytes)
  figures = verify.compare(verify.keras_predict(keras_model, images),
                           runtime.predict(interp, images), labels)
  return {
      "agreement": figures["argmax_agreement"],
      "agreement_with_ties": figures["agreement_with_ties"],
      "top1_float": figures["top1_reference"],
      "top1_int8": figures["top1_export"],
      "max_abs_diff": figures["max_abs_diff"],
      "images": figures["images"],
      "bytes": len(tflite_bytes),
      "io": runtime.io_details(interp),
  }


def write_verified(tflite_bytes: bytes, figures: dict, path: str,
                   min_agreement: float = MIN_AGREEMENT) -> dict:
  """Writes `path` and `path.json` (figures) atomically, unless agreement is below the bar."""
  tolerance(min_agreement).enforce({**figures, "argmax_agreement": figures["agreement"]}, path)
  return verify.keep(path, tflite_bytes, {**figures, "min_agreement": min_agreement})


def export_int8(model, representative_images: np.ndarray, images: np.ndarray,
                labels: np.ndarray, path: str, io_dtype: str = "int8",
                min_agreement: float = MIN_AGREEMENT, granularity: str = "per_channel",
                about: dict | None = None) -> dict:
  """Converts to int8, verifies on (images, labels) from validation, then writes `path`.

  Returns the figures also written to `path.json`: agreement, top1_float, top1_int8,
  bytes, the I/O dtype and quantization parameters, and `about` (what an app needs besides
  the file: the preprocessing contract, the class names).
  """
  data = convert_int8(model, representative_images, io_dtype, granularity)
  figures = verify_int8(data, model, images, labels)
  return write_verified(data, {**figures, "io_dtype": io_dtype, "granularity": granularity,
                               **(about or {})}, path, min_agreement)


def export_int8_or_refusal(model, representative_images: np.ndarray, images: np.ndarray,
                           labels: np.ndarray, path: str, granularity: str = "per_channel"):
  """export_int8, with a refusal recorded rather than raised: (figures, None) when the file
  was written, (None, why) when it failed verification. Runs record it and go on."""
  try:
    return export_int8(model, representative_images, images, labels, path,
                       granularity=granularity), None
  except UserError as e:
    return None, str(e)

"""Running a .tflite file through the LiteRT interpreter, without TensorFlow.

`predict` runs any .tflite, float32 or quantized: inputs are quantized and outputs
dequantized with the tensors' own (scale, zero point), so callers always pass float
images and get float probabilities. Nothing here imports TensorFlow, so `squish-bench` times a
.tflite file with only `ai-edge-litert` and numpy imported (~0.4 s, against TensorFlow's ~8 s
on 2 cores).
"""

from __future__ import annotations

import os
import re

import numpy as np

from squish_tf.errors import UserError
from squish_tf.export import verify


def interpreter(model_content: bytes | None = None, model_path: str | None = None,
                threads: int | None = None, name: str | None = None):
  """A LiteRT interpreter; a missing or broken file is a UserError naming it (`name`: the
  file `model_content` was read from)."""
  from ai_edge_litert.interpreter import Interpreter
  if model_path is not None:
    if not os.path.isfile(model_path):
      raise UserError(f"{model_path}: no such .tflite file; check the path")
  try:
    return Interpreter(model_content=model_content, model_path=model_path, num_threads=threads)
  except (ValueError, RuntimeError) as e:
    what = model_path or name or "model bytes"
    fix = ("re-export it (it may be truncated)" if not model_path or
           model_path.endswith(".tflite") else "pass a .tflite file")
    raise UserError(f"{what}: not a valid .tflite model ({str(e).splitlines()[0]}); {fix}"
                    ) from None


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


def top1(tflite_path: str, images: np.ndarray, labels: np.ndarray,
         threads: int | None = None) -> float:
  """Top-1 of a (float32 or int8) .tflite over (images, labels), through LiteRT."""
  probs = predict(interpreter(model_path=tflite_path, threads=threads), images)
  return verify.top1(probs, labels)

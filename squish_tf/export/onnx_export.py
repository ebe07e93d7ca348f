"""Keras -> ONNX with a dynamic batch, checked through onnxruntime before it is written.

tf2onnx converts the same serving function the SavedModel exports, so the graph has
one input `image` (float32 [batch, S, S, 3], NHWC as in `squish_tf.data.preprocess`) and one
output `probabilities` (float32 [batch, classes]). Keras 3.15's
`model.export(format="onnx")` also works here, but names its output `Identity:0`;
trtexec shape flags and on-device code read better with stable names.
"""

from __future__ import annotations

import numpy as np

from squish_tf.data import preprocess
from squish_tf.export import verify
from squish_tf.export.saved_model import (
  INPUT_NAME,
  OUTPUT_NAME,
  input_spec,
  serving_function,
)
from squish_tf.net import model as model_lib

# opset 17 is read by TensorRT 8.6 to 11 and by onnxruntime; JetPack 6 (TensorRT 10.3)
# parses opsets 9 to 20.
OPSET = 17
BATCH_DIM = "batch"
# The float32 graph run by onnxruntime: float rounding only (seen here: ~1e-7).
MAX_ABS_DIFF = 1e-4
MIN_AGREEMENT = 0.99
FLOAT32 = verify.Tolerance("ONNX conversion", MAX_ABS_DIFF, MIN_AGREEMENT)


def to_onnx(keras_model, opset: int = OPSET) -> bytes:
  """The serialized ONNX model of `keras_model` at its own input size, any batch, in its
  release form (`squish_tf.net.model.release_form`): a TensorRT engine built from it
  neither stores nor multiplies the taps that only meet zero padding."""
  import tf2onnx
  keras_model = model_lib.release_form(keras_model)
  spec = input_spec(int(keras_model.input_shape[1]))
  proto, _ = tf2onnx.convert.from_function(serving_function(keras_model), input_signature=[spec],
                                           opset=opset)
  # tf2onnx names the unknown batch dimension `unk__N`; one shared name says input
  # and output batch are the same, and reads better in trtexec/netron.
  for value in list(proto.graph.input) + list(proto.graph.output):
    value.type.tensor_type.shape.dim[0].dim_param = BATCH_DIM
  return proto.SerializeToString()


def session(model: bytes | str):
  """An onnxruntime CPU session of ONNX bytes or a path."""
  import onnxruntime as ort
  return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def predict(sess, images: np.ndarray, batch_size: int = 32) -> np.ndarray:
  return verify.in_batches(
      lambda b: sess.run([OUTPUT_NAME], {INPUT_NAME: b.astype(np.float32)})[0], images, batch_size)


def verify_onnx(onnx_bytes: bytes, keras_model, images: np.ndarray,
                labels: np.ndarray | None = None) -> dict:
  """Keras against onnxruntime on real images, in batches of 32 and a remainder (so
  more than one batch size goes through the dynamic dimension)."""
  figures = verify.compare(verify.keras_predict(keras_model, images),
                           predict(session(onnx_bytes), images), labels)
  if labels is not None:
    figures["top1_keras"] = figures.pop("top1_reference")
    figures["top1_onnx"] = figures.pop("top1_export")
  return figures


def export_verified(keras_model, images: np.ndarray, path: str, labels: np.ndarray | None = None,
                    class_names: list | None = None) -> dict:
  """Converts, verifies, and only then writes `path` and `path.json` (figures, I/O names,
  preprocessing contract) beside it. Raises RuntimeError, writing nothing, on disagreement."""
  data = to_onnx(keras_model)
  figures = verify_onnx(data, keras_model, images, labels)
  FLOAT32.enforce(figures, path)
  image_size = int(keras_model.input_shape[1])
  figures.update({
      "tolerance": {"max_abs_diff": MAX_ABS_DIFF, "min_argmax_agreement": MIN_AGREEMENT},
      "opset": OPSET,
      "input": {"name": INPUT_NAME, "shape": [BATCH_DIM, image_size, image_size, 3]},
      "output": {"name": OUTPUT_NAME, "shape": [BATCH_DIM, int(keras_model.output_shape[-1])]},
      "preprocess": preprocess.contract(image_size),
  })
  if class_names is not None:
    figures["class_names"] = list(class_names)
  return verify.keep(path, data, figures)

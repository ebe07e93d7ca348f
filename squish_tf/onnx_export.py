"""Keras -> ONNX with a dynamic batch, checked through onnxruntime before it is written.

tf2onnx converts the same serving function the SavedModel exports, so the graph has
one input `image` (float32 [batch, S, S, 3], NHWC as in `preprocess.contract`) and one
output `probabilities` (float32 [batch, classes]). Keras 3.15's
`model.export(format="onnx")` also works here, but names its output `Identity:0`;
trtexec shape flags and on-device code read better with stable names.
"""

from __future__ import annotations

import numpy as np

from squish_tf import files, preprocess
from squish_tf.saved_model_export import INPUT_NAME, OUTPUT_NAME, compare, input_spec

# opset 17 is read by TensorRT 8.6 to 11 and by onnxruntime; JetPack 6 (TensorRT 10.3)
# parses opsets 9 to 20.
OPSET = 17
BATCH_DIM = "batch"
# The float32 graph run by onnxruntime: float rounding only (seen here: ~1e-7).
MAX_ABS_DIFF = 1e-4
MIN_AGREEMENT = 0.99


def to_onnx(keras_model, opset: int = OPSET) -> bytes:
  """The serialized ONNX model of `keras_model` at its own input size, any batch."""
  import tensorflow as tf
  import tf2onnx
  spec = input_spec(int(keras_model.input_shape[1]))

  @tf.function(input_signature=[spec])
  def serve(image):
    return {OUTPUT_NAME: keras_model(image, training=False)}

  proto, _ = tf2onnx.convert.from_function(serve, input_signature=[spec], opset=opset)
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
  out = [sess.run([OUTPUT_NAME], {INPUT_NAME: images[i:i + batch_size].astype(np.float32)})[0]
         for i in range(0, len(images), batch_size)]
  return np.concatenate(out)


def verify(onnx_bytes: bytes, keras_model, images: np.ndarray,
           labels: np.ndarray | None = None) -> dict:
  """Keras against onnxruntime on real images, in batches of 32 and a remainder (so
  more than one batch size goes through the dynamic dimension)."""
  expected = keras_model.predict(images, batch_size=64, verbose=0)
  got = predict(session(onnx_bytes), images)
  figures = compare(expected, got)
  if labels is not None:
    figures["top1_keras"] = float(np.mean(expected.argmax(1) == labels))
    figures["top1_onnx"] = float(np.mean(got.argmax(1) == labels))
  return figures


def export_verified(keras_model, images: np.ndarray, path: str, labels: np.ndarray | None = None,
                    class_names: list | None = None) -> dict:
  """Converts, verifies, and only then writes `path` and `path.json` (figures, I/O names,
  preprocessing contract) beside it. Raises RuntimeError, writing nothing, on disagreement."""
  data = to_onnx(keras_model)
  figures = verify(data, keras_model, images, labels)
  figures["tolerance"] = {"max_abs_diff": MAX_ABS_DIFF, "min_argmax_agreement": MIN_AGREEMENT}
  if figures["max_abs_diff"] > MAX_ABS_DIFF or figures["argmax_agreement"] < MIN_AGREEMENT:
    raise RuntimeError(f"ONNX conversion disagrees with Keras: {figures}; file not written")
  image_size = int(keras_model.input_shape[1])
  figures.update({
      "bytes": len(data),
      "opset": OPSET,
      "input": {"name": INPUT_NAME, "shape": [BATCH_DIM, image_size, image_size, 3]},
      "output": {"name": OUTPUT_NAME, "shape": [BATCH_DIM, int(keras_model.output_shape[-1])]},
      "preprocess": preprocess.contract(image_size),
  })
  if class_names is not None:
    figures["class_names"] = list(class_names)
  files.write_bytes(path, data)
  files.write_json(path + ".json", figures)
  return figures

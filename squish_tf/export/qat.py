"""Quantization-aware training (tfmot) driven from a Keras 3 process.

tfmot 0.8.1 needs legacy Keras, which a process must choose before TensorFlow is
imported; this process already runs Keras 3. So `run_qat` writes the network
(spec, weights by layer name, masks) and the data into a temporary directory and runs
`squish_tf.legacy.qat_worker` on it (protocol: `squish_tf.legacy.worker`). Nothing
here imports tfmot or tf_keras.
"""

from __future__ import annotations

import os
import tempfile

import keras
import numpy as np
from absl import logging

from squish_tf.errors import UserError
from squish_tf.export import int8 as quantize
from squish_tf.legacy import worker
from squish_tf.net import arch
from squish_tf.net import model as model_lib

WORKER = "squish_tf.legacy.qat_worker"

# Images on which the worker checks that its rebuild predicts what this process predicts.
CHECK_IMAGES = 32


def _network(model, masks: dict | None = None):
  """(request base, weights, Keras model, masks) of a Keras model or a saved .keras path, in
  the form its files take (`model_lib.release_form`): at an input size with inert taps,
  those 3x3 layers as the 1x1 layers of their centre taps (`pointwise`), masks cut alike."""
  if isinstance(model, str):
    if not os.path.isfile(model):
      raise UserError(f"{model}: no such .keras model; pass a model saved by squish-train or "
                      f"squish-evolve")
    model = keras.saving.load_model(model, compile=False)
  if not isinstance(model, keras.Model):
    raise ValueError(f"expected a Keras model or a .keras path, got {type(model).__name__}")
  pointwise = arch.inert_taps(model.input_shape[1]) if model_lib.foldable(model) else ()
  model = model_lib.release_form(model)
  if masks is not None:
    masks = {n: model_lib.centre_tap(m) if n in pointwise else m for n, m in masks.items()}
  request = {"spec": model_lib.spec_of(model), **model_lib.options_of(model),
             "pointwise": list(pointwise)}
  return request, model_lib.get_weights(model), model, masks


def _check_arrays(images, labels, what: str):
  images, labels = np.asarray(images, np.float32), np.asarray(labels, np.int32)
  if images.ndim != 4 or len(images) != len(labels) or len(images) == 0:
    raise ValueError(f"{what} images must be a non-empty NHWC batch with one label each, got "
                     f"{images.shape} images and {labels.shape} labels")
  return images, labels


def legacy_predict(model, images: np.ndarray, masks: dict | None = None,
                   timeout: float | None = 600) -> np.ndarray:
  """Predictions of the tf_keras rebuild of `model` on `images`, from the worker process.

  The worker also refuses a rebuild that differs from `model` on the first images by
  more than `squish_tf.legacy.model.REBUILD_MAX_ABS_DIFF`.
  """
  request, weights, net, masks = _network(model, masks)
  images = np.asarray(images, np.float32)
  check = images[:CHECK_IMAGES]
  with tempfile.TemporaryDirectory(prefix="squish-qat-") as tmp:
    worker.write_inputs(tmp, {"task": "predict", **request}, weights, masks,
                        {"images": images, "check_images": check,
                         "check_probs": net.predict(check, verbose=0)})
    worker.run_worker(WORKER, tmp, timeout)
    return np.load(os.path.join(tmp, "predictions.npy"))


def run_qat(model, out_path: str, train_images=None, train_labels=None, val_images=None,
            val_labels=None, *, masks: dict | None = None, dataset: dict | None = None,
            epochs: int = 1, batch_size: int = 32, learning_rate: float = 2e-4,
            io_dtype: str = "int8", prune_preserve: bool | None = None,
            representative_images: int = quantize.REPRESENTATIVE_IMAGES,
            min_agreement: float = quantize.MIN_AGREEMENT, seed: int = 0,
            timeout: float | None = None, about: dict | None = None) -> dict:
  """Fine-tunes `model` with tfmot QAT in a legacy-Keras process; writes an int8 .tflite.

  Args:
    model: a Keras 3 SqueezeNet/SquishedNet (`squish_tf.net.model`) or a path to its .keras.
    out_path: the .tflite to write; its figures go to `out_path + ".json"`.
    train_images, train_labels, val_images, val_labels: float32 NHWC inputs (per
      `squish_tf.data.preprocess`) and int labels. Or leave them None and pass `dataset`.
    masks: {conv layer: boolean kernel mask} of the model's genome; dead synapses are
      zeroed and, with `prune_preserve`, kept at zero by tfmot through QAT.
    dataset: {"name", "seed", "data_dir"?, "train_limit"?, "val_limit"?}: the worker
      loads the splits itself with `squish_tf.data` at the model's image size.
    prune_preserve: pruning-preserving QAT; None means "when masks have a dead synapse".
    representative_images: first training images used to calibrate int8 conversions.
    min_agreement: the int8 file is written only if its top-1 agrees with the QAT
      Keras model on this fraction of the validation images.
    about: JSON fields written beside the figures (the preprocessing contract, class names).

  Returns the figures written beside the file: top1_float_start and top1_ptq_int8 (the
  model before QAT, and its post-training int8 conversion), top1_qat_keras and
  top1_qat_int8 (after QAT), agreement, bytes, masked_nonzero_after_qat, and timings.
  """
  request, weights, net, masks = _network(model, masks)
  quantize.check_io_dtype(io_dtype)
  if epochs < 1 or batch_size < 1 or learning_rate <= 0:
    raise ValueError(f"QAT needs epochs >= 1, batch_size >= 1, learning_rate > 0; got "
                     f"{epochs}, {batch_size}, {learning_rate}")
  if not out_path.endswith(".tflite"):
    raise UserError(f"{out_path}: the QAT output must be a .tflite path")
  if masks is not None and prune_preserve is None:
    prune_preserve = any(not np.all(m) for m in masks.values())
  if dataset is None:
    if train_images is None or val_images is None:
      raise ValueError("run_qat needs train and validation arrays, or dataset=")
    train_images, train_labels = _check_arrays(train_images, train_labels, "training")
    val_images, val_labels = _check_arrays(val_images, val_labels, "validation")
    arrays = {"train_images": train_images, "train_labels": train_labels,
              "val_images": val_images, "val_labels": val_labels}
    check = val_images[:CHECK_IMAGES]
  else:
    from squish_tf import data
    splits = data.load(dataset["name"], request["image_size"], dataset.get("data_dir"),
                       dataset.get("seed", seed))
    check = data.as_numpy(splits.validation, CHECK_IMAGES)[0]
    arrays = {}
  request = {"task": "qat", **request, "out_path": os.path.abspath(out_path),
             "epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
             "io_dtype": io_dtype, "prune_preserve": bool(prune_preserve),
             "representative_images": representative_images, "min_agreement": min_agreement,
             "seed": seed, "dataset": dataset, "about": about or {}}
  with tempfile.TemporaryDirectory(prefix="squish-qat-") as tmp:
    worker.write_inputs(tmp, request, weights, masks,
                        {**arrays, "check_images": check,
                         "check_probs": net.predict(check, verbose=0)})
    figures = worker.run_worker(WORKER, tmp, timeout)
  logging.info("QAT int8 %s: top-1 %.4f (post-training int8 %.4f), %d bytes", out_path,
               figures["top1_qat_int8"], figures["top1_ptq_int8"], figures["bytes"])
  return figures

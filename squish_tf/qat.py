"""Quantization-aware training (tfmot) driven from a Keras 3 process.

tfmot 0.8.1 needs legacy Keras, which a process must choose before TensorFlow is
imported; this process already runs Keras 3. So `run_qat` writes the network
(spec, weights by layer name, masks) and the data into a temporary directory and runs
`python -m squish_tf.qat_worker` on it (see that module for the protocol). Nothing
here imports tfmot or tf_keras.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import keras
import numpy as np
from absl import logging

import squish_tf
from squish_tf import arch, files, model as model_lib, quantize
from squish_tf.errors import UserError

# Images on which the worker checks that its rebuild predicts what this process predicts.
CHECK_IMAGES = 32


def _network(model):
  """(spec, weights, build options, Keras model) of a Keras model or a saved .keras path."""
  if isinstance(model, str):
    if not os.path.isfile(model):
      raise UserError(f"{model}: no such .keras model; pass a model saved by squish-train or "
                      f"squish-evolve")
    model = keras.saving.load_model(model, compile=False)
  if not isinstance(model, keras.Model):
    raise ValueError(f"expected a Keras model or a .keras path, got {type(model).__name__}")
  spec = model_lib.spec_of(model)
  options = {
      "image_size": int(model.input_shape[1]),
      "dropout": float(model.get_layer("drop9").rate),
      "head_activation": model.get_layer(arch.HEAD).get_config()["activation"],
  }
  return spec, model_lib.get_weights(model), options, model


def _write_inputs(workdir: str, request: dict, weights: dict, masks: dict | None,
                  arrays: dict) -> None:
  np.savez(os.path.join(workdir, "weights.npz"),
           **{f"{n}.{part}": w for n, pair in weights.items() for part, w in zip(("kernel", "bias"), pair)})
  if masks is not None:
    missing = [n for n in arch.CONV_LAYERS if n not in masks]
    if missing:
      raise ValueError(f"masks are missing layers {missing}")
    for name in arch.CONV_LAYERS:
      if masks[name].shape != weights[name][0].shape:
        raise ValueError(f"{name}: mask shape {masks[name].shape} does not match the kernel "
                         f"{weights[name][0].shape}")
    np.savez_compressed(os.path.join(workdir, "masks.npz"),
                        **{n: np.asarray(masks[n], bool) for n in arch.CONV_LAYERS})
  np.savez(os.path.join(workdir, "data.npz"), **arrays)
  files.write_json(os.path.join(workdir, "request.json"), request)


def _run_worker(workdir: str, timeout: float | None) -> dict:
  """Runs the worker on `workdir`; its failure comes back as one exception line."""
  package_root = os.path.dirname(os.path.dirname(os.path.abspath(squish_tf.__file__)))
  env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
         "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
  try:
    proc = subprocess.run([sys.executable, "-m", "squish_tf.qat_worker", workdir], env=env,
                          capture_output=True, text=True, timeout=timeout)
  except subprocess.TimeoutExpired:
    raise RuntimeError(f"the QAT worker did not finish within {timeout} s") from None
  result, error = os.path.join(workdir, "result.json"), os.path.join(workdir, "error.json")
  if proc.returncode == 0 and os.path.exists(result):
    return files.read_json(result)
  logging.info("QAT worker output:\n%s", proc.stderr[-20000:])
  if os.path.exists(error):
    err = files.read_json(error)
    if err["type"] == "UserError":
      raise UserError(err["message"])
    if err["type"] == "ValueError":
      raise ValueError(err["message"])
    raise RuntimeError(f"QAT worker failed: {err['type']}: {err['message']}")
  last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
  raise RuntimeError(f"QAT worker exited with status {proc.returncode}: {last}")


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
  more than `qat_worker.REBUILD_MAX_ABS_DIFF`.
  """
  spec, weights, options, net = _network(model)
  images = np.asarray(images, np.float32)
  check = images[:CHECK_IMAGES]
  request = {"task": "predict", "spec": spec, **options}
  with tempfile.TemporaryDirectory(prefix="squish-qat-") as tmp:
    _write_inputs(tmp, request, weights, masks,
                  {"images": images, "check_images": check,
                   "check_probs": net.predict(check, verbose=0)})
    _run_worker(tmp, timeout)
    return np.load(os.path.join(tmp, "predictions.npy"))


def run_qat(model, out_path: str, train_images=None, train_labels=None, val_images=None,
            val_labels=None, *, masks: dict | None = None, dataset: dict | None = None,
            epochs: int = 1, batch_size: int = 32, learning_rate: float = 2e-4,
            io_dtype: str = "int8", prune_preserve: bool | None = None,
            representative_images: int = quantize.REPRESENTATIVE_IMAGES,
            min_agreement: float = quantize.MIN_AGREEMENT, seed: int = 0,
            timeout: float | None = None) -> dict:
  """Fine-tunes `model` with tfmot QAT in a legacy-Keras process; writes an int8 .tflite.

  Args:
    model: a Keras 3 SqueezeNet/SquishedNet (`squish_tf.model`) or a path to its .keras.
    out_path: the .tflite to write; its figures go to `out_path + ".json"`.
    train_images, train_labels, val_images, val_labels: float32 NHWC inputs (per
      `squish_tf.preprocess`) and int labels. Or leave them None and pass `dataset`.
    masks: {conv layer: boolean kernel mask} of the model's genome; dead synapses are
      zeroed and, with `prune_preserve`, kept at zero by tfmot through QAT.
    dataset: {"name", "seed", "data_dir"?, "train_limit"?, "val_limit"?}: the worker
      loads the splits itself with `squish_tf.data` at the model's image size.
    prune_preserve: pruning-preserving QAT; None means "when masks have a dead synapse".
    representative_images: first training images used to calibrate int8 conversions.
    min_agreement: the int8 file is written only if its top-1 agrees with the QAT
      Keras model on this fraction of the validation images.

  Returns the figures written beside the file: top1_float_start and top1_ptq_int8 (the
  model before QAT, and its post-training int8 conversion), top1_qat_keras and
  top1_qat_int8 (after QAT), agreement, bytes, masked_nonzero_after_qat, and timings.
  """
  spec, weights, options, net = _network(model)
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
    splits = data.load(dataset["name"], options["image_size"], dataset.get("data_dir"),
                       dataset.get("seed", seed))
    check = data.as_numpy(splits.validation, CHECK_IMAGES)[0]
    arrays = {}
  request = {"task": "qat", "spec": spec, **options, "out_path": os.path.abspath(out_path),
             "epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
             "io_dtype": io_dtype, "prune_preserve": bool(prune_preserve),
             "representative_images": representative_images, "min_agreement": min_agreement,
             "seed": seed, "dataset": dataset}
  with tempfile.TemporaryDirectory(prefix="squish-qat-") as tmp:
    _write_inputs(tmp, request, weights, masks,
                  {**arrays, "check_images": check, "check_probs": net.predict(check, verbose=0)})
    figures = _run_worker(tmp, timeout)
  logging.info("QAT int8 %s: top-1 %.4f (post-training int8 %.4f), %d bytes", out_path,
               figures["top1_qat_int8"], figures["top1_ptq_int8"], figures["bytes"])
  return figures

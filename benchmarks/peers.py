"""Peer models the benchmarks compare SquishedNets with, built and trained the same way.

Imported by the scripts beside it (`python benchmarks/<script>.py`); not part of the package.
"""

from __future__ import annotations

import os
import tempfile

BN_MOMENTUM = 0.99


def mobilenet_v3_small(image_size: int, classes: int):
  """MobileNetV3-Small from scratch, taking our 0..1 inputs.

  With include_preprocessing=False Keras expects inputs in [-1, 1]; a Rescaling layer maps
  our 0..1 inputs there, so the network sees the range its recipe assumes. Its batch norms
  come with momentum 0.999, made for ImageNet's 20k steps an epoch: after the few hundred
  steps of a small data set the moving statistics are still mostly their initial values
  and the network predicts at chance in inference mode (seen on digits: 100% train, 7%
  validation). BN_MOMENTUM, Keras's own default, lets the statistics follow the data;
  `recalibrate_batch_norm` then settles them on the final weights.
  """
  import keras
  inputs = keras.Input((image_size, image_size, 3), name="image")
  x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_minus1_1")(inputs)
  net = keras.applications.MobileNetV3Small(
      input_shape=(image_size, image_size, 3), input_tensor=x, weights=None, classes=classes,
      include_preprocessing=False)
  for layer in net.layers:
    if isinstance(layer, keras.layers.BatchNormalization):
      layer.momentum = BN_MOMENTUM
  return net


def recalibrate_batch_norm(net, train_ds, batch_size: int) -> None:
  """Sets every batch norm's moving statistics to their average over the training split.

  Forward passes only (no weight changes): batch i enters with momentum i / (i + 1), so
  the moving values end as the mean of all batches' statistics under the final weights.
  """
  import keras

  from squish_tf import data
  norms = [l for l in net.layers if isinstance(l, keras.layers.BatchNormalization)]
  saved = [l.momentum for l in norms]
  for i, (images, _) in enumerate(data.batches(train_ds, batch_size, cache=False)):
    for layer in norms:
      layer.momentum = i / (i + 1)
    net(images, training=True)
  for layer, momentum in zip(norms, saved):
    layer.momentum = momentum


def run_tfmot(ancestor, cfg: dict, sparsities: list[float], epochs: int, out_dir: str,
              bench_size: int, check_images) -> dict:
  """Prunes the ancestor with tfmot (`squish_tf.legacy.prune_worker`); returns its figures.

  Writes OUT_DIR/model.tflite at the training size and model_<bench_size>.tflite.
  """
  from squish_tf.legacy import worker
  from squish_tf.net import model as model_lib
  request = {"spec": model_lib.spec_of(ancestor), **model_lib.options_of(ancestor),
             "bench_image_size": bench_size, "dataset": cfg["dataset"],
             "data_dir": cfg["data_dir"], "data_seed": cfg["seed"], "seed": cfg["seed"],
             "epochs": epochs, "batch_size": cfg["batch_size"],
             "learning_rate": cfg["learning_rate"], "sparsities": sparsities,
             "out_dir": os.path.abspath(out_dir)}
  os.makedirs(out_dir, exist_ok=True)
  with tempfile.TemporaryDirectory(prefix="peers-tfmot-") as tmp:
    worker.write_inputs(tmp, request, model_lib.get_weights(ancestor), arrays={
        "check_images": check_images, "check_probs": ancestor.predict(check_images, verbose=0)})
    # The worker's training log goes straight to this terminal.
    return worker.run_worker("squish_tf.legacy.prune_worker", tmp, capture=False)


def int8_pair(model, model_big, rep, rep_big, val_x, val_y, path: str, path_big: str,
              granularity: str = "per_channel") -> dict:
  """Post-training int8 files at the training and the benchmark size; verification figures.

  Figures are recorded, not enforced: a peer that quantizes badly is reported as it is.
  """
  from squish_tf import files
  from squish_tf.export import int8 as quantize
  data = quantize.convert_int8(model, rep, "int8", granularity)
  figures = quantize.verify_int8(data, model, val_x, val_y)
  files.write_bytes(path, data)
  files.write_bytes(path_big, quantize.convert_int8(model_big, rep_big, "int8", granularity))
  return {"int8_agreement_val": figures["agreement"],
          "int8_verified": figures["agreement"] >= quantize.MIN_AGREEMENT}

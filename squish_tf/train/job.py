"""The `squish-train` job: train the ancestor, export a verified .tflite, evaluate both."""

from __future__ import annotations

import os
import time

import keras
from absl import logging

from squish_tf import config as config_lib
from squish_tf import data, files
from squish_tf.export import litert
from squish_tf.net import model as model_lib
from squish_tf.train.trainer import JsonlMetrics, fit, top1

# Images used to verify a .tflite against Keras before it is kept.
VERIFY_IMAGES = 64


def train_and_evaluate(cfg: config_lib.TrainConfig, workdir: str) -> dict:
  """Trains the ancestor on `cfg.dataset`, exports a verified .tflite, evaluates both.

  Writes workdir/{config.json, metrics.jsonl, model.keras, model.tflite(.json),
  summary.json, tensorboard/}. The seed fixes splits, initialization and shuffling;
  multi-threaded TensorFlow CPU kernels can still reorder float sums, so two runs
  may differ in the last digits of the metrics.
  """
  files.ensure_writable_dir(workdir)
  keras.utils.set_random_seed(cfg.seed)
  files.write_json(os.path.join(workdir, "config.json"), config_lib.to_dict(cfg))
  splits = data.load(cfg.dataset, cfg.image_size, cfg.data_dir, cfg.seed)
  net = model_lib.squeezenet(num_classes=splits.num_classes, image_size=cfg.image_size,
                             seed=cfg.seed)
  metrics_path = os.path.join(workdir, "metrics.jsonl")
  if os.path.exists(metrics_path):
    os.remove(metrics_path)  # a fresh training run: old epochs would mislead
  start = time.perf_counter()
  fit(net, splits, cfg.epochs, cfg.batch_size, cfg.learning_rate, cfg.seed,
      callbacks=[JsonlMetrics(metrics_path),
                 keras.callbacks.TensorBoard(os.path.join(workdir, "tensorboard"))])
  train_seconds = time.perf_counter() - start
  with files.atomic_path(os.path.join(workdir, "model.keras")) as tmp:
    net.save(tmp)
  test_x, test_y = data.as_numpy(splits.test)
  tflite_path = os.path.join(workdir, "model.tflite")
  parity = litert.export_verified(net, test_x[:VERIFY_IMAGES], tflite_path)
  summary = {
      "top1_val": top1(net, splits.validation),
      "top1_keras": top1(net, splits.test),
      "top1_tflite": litert.top1(tflite_path, test_x, test_y),
      "tflite_bytes": parity["bytes"],
      "tflite_max_abs_diff": parity["max_abs_diff"],
      "train_seconds": round(train_seconds, 2),
      "params": net.count_params(),
  }
  files.write_json(os.path.join(workdir, "summary.json"), summary)
  files.write_text(os.path.join(workdir, "labels.txt"), "\n".join(splits.class_names) + "\n")
  logging.info("summary: %s", summary)
  return summary

"""Training and evaluation of one network, and the `squish-train` job."""

from __future__ import annotations

import os
import time

import keras
import numpy as np
from absl import logging

from squish_tf import config as config_lib
from squish_tf import data, files, litert, model as model_lib

# Images used to verify a .tflite against Keras before it is kept.
VERIFY_IMAGES = 64


class JsonlMetrics(keras.callbacks.Callback):
  """Appends one JSON line per epoch (train and validation metrics, seconds)."""

  def __init__(self, path: str, extra: dict | None = None):
    super().__init__()
    self.path, self.extra = path, dict(extra or {})

  def on_epoch_begin(self, epoch, logs=None):
    self._start = time.perf_counter()

  def on_epoch_end(self, epoch, logs=None):
    record = {"epoch": epoch + 1, "seconds": round(time.perf_counter() - self._start, 3),
              **self.extra, **{k: float(v) for k, v in (logs or {}).items()}}
    files.append_jsonl(self.path, record)


def compile_model(model: keras.Model, learning_rate: float, decay_steps: int) -> None:
  """Adam with cosine decay to zero: the ReLU head of SqueezeNet makes a constant
  rate wobble (and at 1e-3, collapse to all-zero logits) on small data sets."""
  schedule = keras.optimizers.schedules.CosineDecay(learning_rate, max(decay_steps, 1))
  model.compile(optimizer=keras.optimizers.Adam(schedule),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False)


def fit(model: keras.Model, splits: data.DataSplits, epochs: int, batch_size: int,
        learning_rate: float, seed: int, callbacks=(), verbose: int = 2):
  """Trains on the train split, validating each epoch; returns the Keras History."""
  steps = -(-splits.sizes["train"] // batch_size) * epochs
  compile_model(model, learning_rate, steps)
  return model.fit(data.batches(splits.train, batch_size, shuffle_seed=seed),
                   validation_data=data.batches(splits.validation, 256),
                   epochs=epochs, callbacks=list(callbacks), verbose=verbose)


def top1(model: keras.Model, ds, batch_size: int = 256) -> float:
  """Keras top-1 over an unbatched (image, label) split."""
  correct = total = 0
  for images, labels in data.batches(ds, batch_size, cache=False):
    pred = np.argmax(model(images, training=False), axis=1)
    correct += int(np.sum(pred == labels.numpy()))
    total += len(pred)
  return correct / max(total, 1)


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

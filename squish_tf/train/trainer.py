"""Training and evaluation of one network: compile, fit with a cosine schedule, top-1."""

from __future__ import annotations

import time

import keras
import numpy as np

from squish_tf import data, files


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
        learning_rate: float, seed: int, callbacks=(), verbose: int = 2,
        validate_each_epoch: bool = True):
  """Trains on the train split; returns the Keras History.

  `validate_each_epoch=False` skips the per-epoch validation pass, for callers that only
  need the final network (offspring, baselines): on a small training split it can cost
  as much as the training itself.
  """
  steps = -(-splits.sizes["train"] // batch_size) * epochs
  compile_model(model, learning_rate, steps)
  return model.fit(data.batches(splits.train, batch_size, shuffle_seed=seed),
                   validation_data=(data.batches(splits.validation, 256)
                                    if validate_each_epoch else None),
                   epochs=epochs, callbacks=list(callbacks), verbose=verbose)


def top1(model: keras.Model, ds, batch_size: int = 256) -> float:
  """Keras top-1 over an unbatched (image, label) split."""
  correct = total = 0
  for images, labels in data.batches(ds, batch_size, cache=False):
    pred = np.argmax(model(images, training=False), axis=1)
    correct += int(np.sum(pred == labels.numpy()))
    total += len(pred)
  return correct / max(total, 1)

"""Training and evaluation of one network: compile, fit with a cosine schedule, top-1."""

from __future__ import annotations

import inspect
import time

import keras
import numpy as np
import tensorflow as tf

from squish_tf import data, errors, files
from squish_tf.train import checkpoints


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


def compile_model(model: keras.Model, learning_rate: float, decay_steps: int,
                  warmup_steps: int = 0, loss="sparse_categorical_crossentropy",
                  metrics=("accuracy",)) -> None:
  """Adam with cosine decay to zero, after an optional linear warmup: the ReLU head of
  SqueezeNet makes a constant rate wobble (and at 1e-3, collapse to all-zero logits) on
  small data sets; a warmup spares inherited weights a full-rate first step.

  `metrics`: "accuracy" (of integer labels, as every split here has) or functions
  f(y_true, y_pred). A built model (every network here is functional) gets its optimizer
  built now, so that fit traces its step once."""
  if warmup_steps:
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, max(decay_steps, 1), warmup_target=learning_rate, warmup_steps=warmup_steps)
  else:
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, max(decay_steps, 1))
  model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss,
                metrics=[_metric(m) for m in metrics], jit_compile=False)
  # A step that makes variables (Keras builds the optimizer and metrics lazily) is traced
  # twice, ~2.5 s of a toy network's ~9 s fit. An unbuilt model has no variables to build for.
  if model.built:
    model.optimizer.build(model.trainable_variables)


def _metric(metric):
  """A metric object, its variables made now, for "accuracy" (of integer labels) or a
  function f(y_true, y_pred); anything else is passed to Keras as it is."""
  if metric == "accuracy":
    return keras.metrics.SparseCategoricalAccuracy(name="accuracy")
  if inspect.isfunction(metric):
    return keras.metrics.MeanMetricWrapper(metric, name=metric.__name__)
  return metric


def shift(images, max_pixels: int, seed: int):
  """Each image moved by up to `max_pixels` in each direction, the border zero-filled."""
  size = tf.shape(images)[1]
  padded = tf.pad(images, [[0, 0], [max_pixels] * 2, [max_pixels] * 2, [0, 0]])
  return tf.map_fn(lambda im: tf.image.random_crop(im, tf.stack([size, size, 3]), seed=seed),
                   padded)


def distillation_loss(weight: float, temperature: float):
  """(1 - weight) * cross-entropy with the labels + weight * T^2 * KL(teacher_T || student_T).

  y_true packs [label, teacher probabilities]; the networks end in a softmax, so the
  tempered distributions come from the log-probabilities.
  """
  def loss(y_true, y_pred):
    labels = tf.cast(y_true[:, 0], tf.int32)
    teacher = y_true[:, 1:]
    hard = keras.losses.sparse_categorical_crossentropy(labels, y_pred)
    soft_t = tf.nn.softmax(tf.math.log(teacher + 1e-8) / temperature)
    log_s = tf.nn.log_softmax(tf.math.log(y_pred + 1e-8) / temperature)
    kl = tf.reduce_sum(soft_t * (tf.math.log(soft_t + 1e-8) - log_s), axis=-1)
    return (1.0 - weight) * hard + weight * temperature ** 2 * kl
  return loss


def packed_accuracy(y_true, y_pred):
  return keras.metrics.sparse_categorical_accuracy(tf.cast(y_true[:, 0], tf.int32), y_pred)


def fit(model: keras.Model, splits: data.DataSplits, epochs: int, batch_size: int,
        learning_rate: float, seed: int, callbacks=(), verbose: int = 2,
        validate_each_epoch: bool = True, teacher: keras.Model | None = None,
        distill: float = 0.0, temperature: float = 2.0, warmup_epochs: float = 0.0,
        augment_pixels: int = 0, checkpoint_dir: str | None = None):
  """Trains on the train split; returns the Keras History.

  `validate_each_epoch=False` skips the per-epoch validation pass, for callers that only
  need the final network (offspring, baselines): on a small training split it can cost
  as much as the training itself. With a `teacher` and `distill` > 0 the loss also pulls
  the network towards the teacher's outputs on the same (shifted) images. With a
  `checkpoint_dir` the state is saved after every epoch, and training starts from the
  newest checkpoint there, if any (`checkpoints`). Its batches come in another seeded order
  than without one; only squish-train checkpoints, so evolution trains as it always has.
  """
  steps_per_epoch = -(-splits.sizes["train"] // batch_size)
  train = data.batches(splits.train, batch_size, shuffle_seed=seed)
  if augment_pixels:
    train = train.map(lambda x, y: (shift(x, augment_pixels, seed), y),
                      num_parallel_calls=tf.data.AUTOTUNE)
  loss, metrics = "sparse_categorical_crossentropy", ("accuracy",)
  if teacher is not None and distill > 0:
    def pack(x, y):
      probs = teacher(x, training=False)
      return x, tf.concat([tf.cast(y, probs.dtype)[:, None], probs], axis=1)
    train = train.map(pack)
    loss, metrics = distillation_loss(distill, temperature), (packed_accuracy,)
    validate_each_epoch = False  # validation labels are not packed
  compile_model(model, learning_rate, steps_per_epoch * epochs,
                int(round(warmup_epochs * steps_per_epoch)), loss, metrics)
  callbacks, initial_epoch, steps = list(callbacks), 0, None
  if checkpoint_dir:
    initial_epoch = checkpoints.restore(model, checkpoint_dir)
    # One iterator for every epoch, reshuffled at each repetition: skipping the finished
    # epochs' batches draws their shuffles, so a resumed run sees the batches an
    # uninterrupted one would (Keras would start a fresh shuffle sequence per fit).
    train, steps = train.repeat().skip(initial_epoch * steps_per_epoch), steps_per_epoch
    callbacks.append(keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: checkpoints.save(model, checkpoint_dir, epoch + 1)))
  # A Ctrl-C that one of TensorFlow's finalizers swallowed ends training once the epoch (and
  # its checkpoint) is done.
  callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: errors.check_signals()))
  return model.fit(train.prefetch(tf.data.AUTOTUNE),
                   validation_data=(data.batches(splits.validation, 256)
                                    if validate_each_epoch else None),
                   epochs=epochs, initial_epoch=initial_epoch, steps_per_epoch=steps,
                   callbacks=callbacks, verbose=verbose)


def top1(model: keras.Model, ds, batch_size: int = 256) -> float:
  """Keras top-1 over an unbatched (image, label) split."""
  correct = total = 0
  for images, labels in data.batches(ds, batch_size, cache=False):
    pred = np.argmax(model(images, training=False), axis=1)
    correct += int(np.sum(pred == labels.numpy()))
    total += len(pred)
  return correct / max(total, 1)

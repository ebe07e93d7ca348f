"""Training: options offspring can use (distillation from the parent, warmup, shifted
images), and fit tracing its train step once."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from squish_tf import data, train
from squish_tf.net import arch, model
from squish_tf.train import trainer


def test_shift_moves_images_by_at_most_the_pixels_asked_and_fills_with_zeros():
  image = np.zeros((4, 16, 16, 3), np.float32)
  image[:, 8, 8, :] = 1.0
  moved = trainer.shift(tf.constant(image), 2, seed=3).numpy()
  assert moved.shape == image.shape
  for m in moved:
    ys, xs = np.nonzero(m[..., 0])
    assert len(ys) == 1 and abs(ys[0] - 8) <= 2 and abs(xs[0] - 8) <= 2
  assert len({tuple(np.argwhere(m[..., 0])[0]) for m in moved}) > 1  # not all the same shift


def test_distillation_loss_is_cross_entropy_plus_a_kl_that_vanishes_for_the_teacher():
  probs = tf.constant([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
  labels = tf.constant([[0.0], [2.0]])
  packed = tf.concat([labels, probs], axis=1)
  ce = tf.keras.losses.sparse_categorical_crossentropy(tf.constant([0, 2]), probs).numpy()
  np.testing.assert_allclose(trainer.distillation_loss(0.0, 2.0)(packed, probs).numpy(), ce,
                             rtol=1e-5)
  np.testing.assert_allclose(trainer.distillation_loss(1.0, 2.0)(packed, probs).numpy(), 0.0,
                             atol=1e-5)
  other = tf.constant([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]])
  assert (trainer.distillation_loss(1.0, 2.0)(packed, other).numpy() > 0.1).all()


def test_warmup_starts_at_zero_and_reaches_the_rate():
  net = model.squeezenet(image_size=32, seed=0)
  trainer.compile_model(net, 1e-3, decay_steps=100, warmup_steps=10)
  schedule = net.optimizer.learning_rate if callable(net.optimizer.learning_rate) else (
      net.optimizer._learning_rate)
  assert float(schedule(0)) == pytest.approx(0.0, abs=1e-9)
  assert float(schedule(10)) == pytest.approx(1e-3, rel=1e-3)
  assert float(schedule(60)) < 1e-3


def test_fit_with_a_teacher_warmup_and_shifts_trains():
  splits = data.load("digits", image_size=32, seed=0)
  spec = {k: max(4, v // 4) for k, v in arch.ancestor_spec(10).items()} | {arch.HEAD: 10}
  teacher = model.squeezenet(spec, image_size=32, seed=1)
  student = model.squeezenet(spec, image_size=32, seed=2)
  traces = count_traces(student)
  history = train.fit(student, splits, 2, 64, 1e-3, 0, verbose=0, teacher=teacher,
                      distill=0.5, warmup_epochs=0.5, augment_pixels=2)
  losses = history.history["loss"]
  assert len(losses) == 2 and all(np.isfinite(losses)) and losses[1] < losses[0]
  assert "packed_accuracy" in history.history
  assert traces == [1]  # the packed metric's variables were made before the step was traced


def count_traces(net) -> list:
  """[n]: how many times fit traced `net`'s train step (Python runs it once per trace)."""
  traces, step = [0], net.train_step

  def counted(*args):
    traces[0] += 1
    return step(*args)
  net.train_step = counted
  return traces


def test_fit_traces_the_train_step_once():
  """Keras builds the optimizer and metrics lazily, inside the first trace, and a traced step
  that makes variables is traced again (~2.5 s of a toy fit); fit builds them first."""
  splits = data.load("digits", image_size=32, seed=0)
  spec = {k: max(4, v // 8) for k, v in arch.ancestor_spec(10).items()} | {arch.HEAD: 10}
  net = model.squeezenet(spec, image_size=32, seed=1)
  traces = count_traces(net)
  history = train.fit(net, splits, 1, 64, 1e-3, 0, verbose=0, validate_each_epoch=False)
  assert traces == [1] and "accuracy" in history.history


def test_compile_leaves_an_unbuilt_model_to_be_built_by_fit():
  """A model without variables yet: its optimizer is built by fit with them, not now."""
  net = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
  trainer.compile_model(net, 1e-3, decay_steps=1)
  history = net.fit(np.ones((4, 3), np.float32), np.arange(4), epochs=1, verbose=0)
  assert np.isfinite(history.history["loss"][0]) and len(net.optimizer.variables) > 1


class _Killed(Exception):
  pass


def _fit_small(splits, checkpoint_dir, kill_before_epoch=None):
  """A narrow SqueezeNet (its dropout included) fitted 2 epochs; the fit is stopped, as a
  kill would stop it, when `kill_before_epoch` (from 0) begins."""
  spec = {k: max(4, v // 8) for k, v in arch.ancestor_spec(10).items()} | {arch.HEAD: 10}
  net = model.squeezenet(spec, image_size=32, seed=1)

  class Kill(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
      if epoch == kill_before_epoch:
        raise _Killed
  train.fit(net, splits, 2, 64, 1e-3, 0, callbacks=[Kill()], verbose=0,
            validate_each_epoch=False, checkpoint_dir=checkpoint_dir)
  return net


def test_a_fit_resumed_from_its_checkpoint_ends_as_an_uninterrupted_one(tmp_path):
  """The weights, the optimizer's state, dropout's random state and the shuffles the finished
  epochs drew all come back: the resumed fit ends with the very same weights."""
  splits = data.load("digits", image_size=32, seed=0)
  whole = _fit_small(splits, str(tmp_path / "whole"))
  with pytest.raises(_Killed):
    _fit_small(splits, str(tmp_path / "killed"), kill_before_epoch=1)
  assert sorted(p.name for p in (tmp_path / "killed").iterdir()) == ["epoch_0001.weights.h5"]
  (tmp_path / "killed" / "notes.txt").write_text("not a checkpoint: kept")
  resumed = _fit_small(splits, str(tmp_path / "killed"))
  assert int(resumed.optimizer.iterations) == int(whole.optimizer.iterations)
  for a, b in zip(whole.variables, resumed.variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
  assert sorted(p.name for p in (tmp_path / "killed").iterdir()) == [
      "epoch_0002.weights.h5", "notes.txt"]


def test_a_checkpoint_keras_cannot_load_is_one_line(tmp_path):
  """h5py opens it (so the check before TensorFlow passes it) but it holds no weights: Keras's
  reason spans a line per layer; the error keeps one."""
  import h5py
  from squish_tf.errors import UserError
  from squish_tf.train import checkpoints
  with h5py.File(tmp_path / "epoch_0001.weights.h5", "w"):
    pass
  net = model.squeezenet(image_size=32, seed=0)
  trainer.compile_model(net, 1e-3, decay_steps=1)
  with pytest.raises(UserError, match=r"epoch_0001.weights.h5 is damaged \(ValueError: .*\); "
                                      r"delete it to resume from the first epoch") as e:
    checkpoints.restore(net, str(tmp_path))
  assert "\n" not in str(e.value)

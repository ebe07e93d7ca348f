"""Epoch checkpoints of a training run, so that a killed squish-train resumes where it stopped.

A checkpoint is one file (`rundir.checkpoint_path`): the network's variables, the
optimizer's (its step count drives the learning-rate schedule) and the random state of
layers such as dropout, which Keras leaves out, so that a resumed run trains on exactly as
an uninterrupted one would. It is written atomically with its epoch in its name, so a crash
leaves the last checkpoint or the new one, never weights paired with the wrong epoch. Only
the newest is kept.
"""

from __future__ import annotations

import os

import h5py

from squish_tf import files, rundir

_RANDOM = "squish_tf_random_state"  # the h5 group beside Keras's own


def _random_state(model) -> list:
  """The variables Keras's weights file leaves out: the seed states of random layers."""
  weights = {id(v) for v in model.weights}
  return [v for v in model.variables if id(v) not in weights]


def save(model, directory: str, epoch: int) -> None:
  """Writes `model`'s state after `epoch` (counted from 1), then removes the older
  checkpoints."""
  path = rundir.checkpoint_path(directory, epoch)
  with files.atomic_path(path) as tmp:
    model.save_weights(tmp)
    with h5py.File(tmp, "a") as f:
      for i, v in enumerate(_random_state(model)):
        f[f"{_RANDOM}/{i}"] = v.numpy()
  for _, old in rundir.saved_checkpoints(directory)[:-1]:
    os.remove(old)


def restore(model, directory: str) -> int:
  """Loads the newest checkpoint into `model`, compiled with its optimizer built; returns its
  epoch (0: nothing saved, `model` untouched)."""
  saved = rundir.saved_checkpoints(directory)
  if not saved:
    return 0
  epoch, path = saved[-1]
  try:
    model.load_weights(path)
    with h5py.File(path, "r") as f:
      for i, v in enumerate(_random_state(model)):
        v.assign(f[f"{_RANDOM}/{i}"][()])
  except Exception as e:  # noqa: BLE001 -- h5py, shape and format errors all mean "damaged"
    raise rundir.damaged_checkpoint(path, f"{type(e).__name__}: {e}") from None
  return epoch

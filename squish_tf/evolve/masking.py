"""Keras glue for genomes: masked weights that stay exactly zero through training.

Each masked kernel (and the bias of a filter with no alive synapse) gets a
variable constraint that multiplies it by its mask. Keras applies variable
constraints right after every optimizer step inside the compiled train step,
so a dead synapse is zero after every update, not just at the end.
"""

from __future__ import annotations

import keras
import numpy as np

from squish_tf.evolve.genome import alive_filters
from squish_tf.net import arch


class MaskConstraint(keras.constraints.Constraint):
  """w -> w * mask (a fixed 0/1 tensor of the variable's shape)."""

  def __init__(self, mask: np.ndarray):
    self.mask = np.asarray(mask, dtype=np.float32)

  def __call__(self, w):
    return w * keras.ops.cast(self.mask, w.dtype)

  def get_config(self):
    return {"mask": self.mask.tolist()}


def apply_masks(model: keras.Model, masks: dict) -> None:
  """Zeroes dead synapses (and biases of dead filters) and keeps them zero while training."""
  for name in arch.CONV_LAYERS:
    layer = model.get_layer(name)
    kernel_mask = masks[name].astype(np.float32)
    bias_mask = alive_filters(masks[name]).astype(np.float32)
    for variable, mask in ((layer.kernel, kernel_mask), (layer.bias, bias_mask)):
      if tuple(variable.shape) != mask.shape:
        raise ValueError(f"{name}: mask shape {mask.shape} does not match weights {variable.shape}")
      variable.constraint = MaskConstraint(mask)
      variable.assign(variable.value * mask)


def strip_masks(model: keras.Model) -> None:
  """Removes the constraints (weights stay as they are) so the model saves as a plain one."""
  for name in arch.CONV_LAYERS:
    layer = model.get_layer(name)
    layer.kernel.constraint = None
    layer.bias.constraint = None

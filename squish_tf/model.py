"""Functional Keras builder for SqueezeNet v1.1 and its squished variants.

Layer names are stable (`conv1`, `fire4_expand3x3`, `conv10`, ...): masks,
checkpoints and surgery are keyed by them. The same builder rebuilds any
squished network from its architecture spec (filters per conv layer).
"""

from __future__ import annotations

import keras
import numpy as np

from squish_tf import arch


def squeezenet(spec: dict[str, int] | None = None, num_classes: int = 10,
               image_size: int | None = 64, dropout: float = 0.5, seed: int | None = None,
               head_activation: str = "linear", name: str = "squeezenet_v1_1") -> keras.Model:
  """SqueezeNet v1.1 whose conv10 has `num_classes` filters, ending in a softmax.

  Departure from docs/evolutionary-synthesis.md section 1: conv10 is linear by
  default, not ReLU. A ReLU before the softmax lets a class's logit die at zero for
  good; on digits that froze training at chance (lr 1e-3) or at 9 of 10 classes
  (lr 5e-4). `head_activation="relu"` builds the original head.

  Args:
    spec: filters per conv layer (`arch.CONV_LAYERS`); the ancestor's when None.
    num_classes: classes of the head; must equal `spec["conv10"]` when both are given.
    image_size: side of the square RGB input (>= 32), or None for any size.
    dropout: rate of `drop9`.
    seed: seeds the initializers, so that the same seed builds the same weights.
  """
  spec = arch.validate_spec(spec if spec is not None else arch.ancestor_spec(num_classes),
                            num_classes)
  if image_size is not None:
    arch.output_sizes(image_size)  # raises ValueError below the minimum size
  if not 0.0 <= dropout < 1.0:
    raise ValueError(f"dropout must be in [0, 1), got {dropout}")
  seeds = iter(range(0 if seed is None else seed * 1000, 10**9))

  def conv(x, layer, strides=1, padding="same", activation="relu"):
    size = arch.KERNEL_SIZE[layer]
    layer_seed = None if seed is None else next(seeds)
    # He init keeps the signal alive through the ReLU stack (Glorot leaves the net
    # stuck at chance on digits); conv10 starts small, as in SqueezeNet's own recipe.
    init = (keras.initializers.RandomNormal(stddev=0.01, seed=layer_seed) if layer == arch.HEAD
            else keras.initializers.HeUniform(seed=layer_seed))
    return keras.layers.Conv2D(spec[layer], size, strides=strides, padding=padding,
                               activation=activation, kernel_initializer=init, name=layer)(x)

  def pool(x, name):
    return keras.layers.MaxPooling2D(3, strides=2, name=name)(x)

  inputs = keras.Input((image_size, image_size, 3), name="image")
  x = conv(inputs, "conv1", strides=2, padding="valid")
  x = pool(x, arch.POOL_AFTER["conv1"])
  for fid in arch.FIRE_IDS:
    squeeze, expand1, expand3 = arch.fire_layers(fid)
    s = conv(x, squeeze)
    x = keras.layers.Concatenate(name=f"fire{fid}_concat")([conv(s, expand1), conv(s, expand3)])
    if f"fire{fid}" in arch.POOL_AFTER:
      x = pool(x, arch.POOL_AFTER[f"fire{fid}"])
  x = keras.layers.Dropout(dropout, seed=seed, name="drop9")(x)
  x = conv(x, arch.HEAD, activation=head_activation)
  x = keras.layers.GlobalAveragePooling2D(name="pool10")(x)
  outputs = keras.layers.Activation("softmax", name="softmax")(x)
  return keras.Model(inputs, outputs, name=name)


def spec_of(model: keras.Model) -> dict[str, int]:
  return {name: int(model.get_layer(name).filters) for name in arch.CONV_LAYERS}


def get_weights(model: keras.Model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  """{conv layer: (kernel, bias)} as numpy arrays."""
  out = {}
  for name in arch.CONV_LAYERS:
    kernel, bias = model.get_layer(name).get_weights()
    out[name] = (kernel, bias)
  return out


def set_weights(model: keras.Model, weights: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
  for name in arch.CONV_LAYERS:
    model.get_layer(name).set_weights(list(weights[name]))


def rebuild(model: keras.Model, image_size: int | None, dropout: float = 0.5) -> keras.Model:
  """The same network (spec and weights) at another input size."""
  spec = spec_of(model)
  head = model.get_layer(arch.HEAD).get_config()["activation"]
  clone = squeezenet(spec, spec[arch.HEAD], image_size=image_size, dropout=dropout,
                     head_activation=head, name=model.name)
  set_weights(clone, get_weights(model))
  return clone

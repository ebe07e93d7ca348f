"""The SqueezeNet v1.1 graph, written once for any Keras with the functional API.

`build` takes the Keras module to build with: Keras 3 here (`model`), tf_keras in the
legacy-Keras worker process (`squish_tf.legacy.model`). One definition guarantees the two
graphs and their layer names are the same, so weights copy across by name. Nothing here
imports a Keras.
"""

from __future__ import annotations

from squish_tf.net import arch


def check_options(spec: dict, num_classes: int | None, image_size: int | None,
                  dropout: float) -> dict:
  """The validated spec; ValueError naming what is wrong with any option."""
  spec = arch.validate_spec(spec, num_classes)
  if image_size is not None:
    arch.output_sizes(image_size)  # raises ValueError below the minimum size
  if not 0.0 <= dropout < 1.0:
    raise ValueError(f"dropout must be in [0, 1), got {dropout}")
  return spec


def build(k, spec: dict, image_size: int | None, dropout: float, head_activation: str,
          name: str, conv_options=None, dropout_seed: int | None = None,
          pointwise: tuple[str, ...] = ()):
  """SqueezeNet v1.1 for `spec` built with Keras module `k` (keras or tf_keras).

  `conv_options(layer)` gives extra Conv2D arguments per layer (initializers). The layers in
  `pointwise` are built 1x1 whatever their kernel in `arch` (`arch.inert_taps`).
  """
  def conv(x, layer, strides=1, padding="same", activation="relu"):
    extra = conv_options(layer) if conv_options else {}
    side = 1 if layer in pointwise else arch.KERNEL_SIZE[layer]
    return k.layers.Conv2D(spec[layer], side, strides=strides,
                           padding=padding, activation=activation, name=layer, **extra)(x)

  def pool(x, pool_name):
    return k.layers.MaxPooling2D(3, strides=2, name=pool_name)(x)

  inputs = k.Input((image_size, image_size, 3), name="image")
  x = conv(inputs, "conv1", strides=2, padding="valid")
  x = pool(x, arch.POOL_AFTER["conv1"])
  for fid in arch.FIRE_IDS:
    squeeze, expand1, expand3 = arch.fire_layers(fid)
    s = conv(x, squeeze)
    x = k.layers.Concatenate(name=f"fire{fid}_concat")([conv(s, expand1), conv(s, expand3)])
    if f"fire{fid}" in arch.POOL_AFTER:
      x = pool(x, arch.POOL_AFTER[f"fire{fid}"])
  x = k.layers.Dropout(dropout, seed=dropout_seed, name="drop9")(x)
  x = conv(x, arch.HEAD, activation=head_activation)
  x = k.layers.GlobalAveragePooling2D(name="pool10")(x)
  outputs = k.layers.Activation("softmax", name="softmax")(x)
  return k.Model(inputs, outputs, name=name)

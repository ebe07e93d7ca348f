"""SqueezeNet v1.1 (or a squished variant) rebuilt under legacy Keras (tf_keras) from its spec.

Only the QAT worker imports this: tfmot 0.8.1 wraps tf_keras models only, and a
process can hold one Keras. The graph and layer names are those of
`squish_tf.model.squeezenet`, so weights copy across by layer name; initializers
are left at their defaults because the weights are always copied in.
"""

from __future__ import annotations

import numpy as np
import tf_keras

from squish_tf import arch


def squeezenet(spec: dict[str, int], image_size: int, dropout: float = 0.5,
               head_activation: str = "linear", name: str = "squeezenet_v1_1") -> tf_keras.Model:
  """The tf_keras twin of `squish_tf.model.squeezenet` for `spec` at `image_size`."""
  spec = arch.validate_spec(spec)
  arch.output_sizes(image_size)  # raises ValueError below the minimum size
  layers = tf_keras.layers

  def conv(x, layer, strides=1, padding="same", activation="relu"):
    return layers.Conv2D(spec[layer], arch.KERNEL_SIZE[layer], strides=strides, padding=padding,
                         activation=activation, name=layer)(x)

  def pool(x, name):
    return layers.MaxPooling2D(3, strides=2, name=name)(x)

  inputs = layers.Input((image_size, image_size, 3), name="image")
  x = conv(inputs, "conv1", strides=2, padding="valid")
  x = pool(x, arch.POOL_AFTER["conv1"])
  for fid in arch.FIRE_IDS:
    squeeze, expand1, expand3 = arch.fire_layers(fid)
    s = conv(x, squeeze)
    x = layers.Concatenate(name=f"fire{fid}_concat")([conv(s, expand1), conv(s, expand3)])
    if f"fire{fid}" in arch.POOL_AFTER:
      x = pool(x, arch.POOL_AFTER[f"fire{fid}"])
  x = layers.Dropout(dropout, name="drop9")(x)
  x = conv(x, arch.HEAD, activation=head_activation)
  x = layers.GlobalAveragePooling2D(name="pool10")(x)
  outputs = layers.Activation("softmax", name="softmax")(x)
  return tf_keras.Model(inputs, outputs, name=name)


def set_weights(model: tf_keras.Model, weights: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
  """Copies {conv layer: (kernel, bias)} in by name; a shape mismatch names the layer."""
  for name in arch.CONV_LAYERS:
    layer = model.get_layer(name)
    kernel, bias = weights[name]
    want = tuple(layer.kernel.shape)
    if tuple(kernel.shape) != want or tuple(bias.shape) != tuple(layer.bias.shape):
      raise ValueError(f"{name}: weights of shape {kernel.shape}/{bias.shape} do not fit the "
                       f"spec's {want}/{tuple(layer.bias.shape)}")
    layer.set_weights([kernel, bias])

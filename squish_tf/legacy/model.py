"""SqueezeNet v1.1 (or a squished variant) rebuilt under legacy Keras (tf_keras) from its spec.

Only legacy workers import this: tfmot 0.8.1 wraps tf_keras models only, and a
process can hold one Keras. The graph and layer names are those of
`squish_tf.net.model.squeezenet`, so weights copy across by layer name; initializers
are left at their defaults because the weights are always copied in.
"""

from __future__ import annotations

import numpy as np
import tf_keras

from squish_tf.evolve.genome import alive_filters
from squish_tf.net import arch, graph

# The float rebuild must match Keras 3 up to float rounding (same graph, same weights).
REBUILD_MAX_ABS_DIFF = 1e-4


def squeezenet(spec: dict[str, int], image_size: int, dropout: float = 0.5,
               head_activation: str = "linear", name: str = "squeezenet_v1_1",
               pointwise: tuple[str, ...] = ()) -> tf_keras.Model:
  """The tf_keras twin of `squish_tf.net.model.squeezenet` for `spec` at `image_size`, with
  the `pointwise` layers 1x1 as in `squish_tf.net.model.folded`."""
  spec = graph.check_options(spec, None, image_size, dropout)
  return graph.build(tf_keras, spec, image_size, dropout, head_activation, name,
                     pointwise=tuple(pointwise))


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


def rebuild(request: dict, weights: dict, masks: dict | None = None) -> tf_keras.Model:
  """The tf_keras network of a worker request (spec and builder options) with the Keras 3
  weights; with masks, dead synapses and the biases of dead filters are zeroed."""
  net = squeezenet(request["spec"], request["image_size"], request["dropout"],
                   request["head_activation"], pointwise=request.get("pointwise", ()))
  if masks is not None:
    weights = {name: (kernel * masks[name], bias * alive_filters(masks[name]))
               for name, (kernel, bias) in weights.items()}
  set_weights(net, weights)
  return net


def check_rebuild(net, images: np.ndarray, probs: np.ndarray) -> float:
  """Max |difference| from the Keras 3 network's probabilities; raises beyond rounding."""
  diff = float(np.max(np.abs(net.predict(images, batch_size=64, verbose=0) - probs)))
  if diff > REBUILD_MAX_ABS_DIFF:
    raise RuntimeError(f"the tf_keras rebuild predicts differently from the Keras 3 network "
                       f"(max |diff| {diff:.2e} > {REBUILD_MAX_ABS_DIFF}); weights or graph differ")
  return diff

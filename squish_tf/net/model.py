"""Functional Keras builder for SqueezeNet v1.1 and its squished variants.

Layer names are stable (`conv1`, `fire4_expand3x3`, `conv10`, ...): masks,
checkpoints and surgery are keyed by them. The same builder rebuilds any
squished network from its architecture spec (filters per conv layer).
"""

from __future__ import annotations

import keras
import numpy as np

from squish_tf.net import arch, graph


def squeezenet(spec: dict[str, int] | None = None, num_classes: int = 10,
               image_size: int | None = 64, dropout: float = 0.5, seed: int | None = None,
               head_activation: str = "linear", name: str = "squeezenet_v1_1") -> keras.Model:
  """SqueezeNet v1.1 whose conv10 has `num_classes` filters, ending in a softmax.

  Departure from the paper (docs/evolutionary-synthesis.md, section 1): conv10 is
  linear by default, not ReLU. A ReLU before the softmax lets a class's logit die at zero for
  good; on digits that froze training at chance (lr 1e-3) or at 9 of 10 classes
  (lr 5e-4). `head_activation="relu"` builds the original head.

  Args:
    spec: filters per conv layer (`arch.CONV_LAYERS`); the ancestor's when None.
    num_classes: classes of the head; must equal `spec["conv10"]` when both are given.
    image_size: side of the square RGB input (>= 32), or None for any size.
    dropout: rate of `drop9`.
    seed: seeds the initializers and dropout (`layer_seeds`): the same seed builds the
      same weights.
  """
  spec = graph.check_options(spec if spec is not None else arch.ancestor_spec(num_classes),
                             num_classes, image_size, dropout)
  seeds = layer_seeds(seed)

  def initializers(layer):
    # He init keeps the signal alive through the ReLU stack (Glorot leaves the net
    # stuck at chance on digits); conv10 starts small, as in SqueezeNet's own recipe.
    layer_seed = seeds[layer]
    init = (keras.initializers.RandomNormal(stddev=0.01, seed=layer_seed) if layer == arch.HEAD
            else keras.initializers.HeUniform(seed=layer_seed))
    return {"kernel_initializer": init}

  net = graph.build(keras, spec, image_size, dropout, head_activation, name,
                    conv_options=initializers, dropout_seed=seeds["drop9"])
  _zero_inert_taps(net, image_size)
  return net


def _zero_inert_taps(net: keras.Model, image_size: int | None) -> None:
  """Starts the inert taps (`arch.inert_taps`) at zero. They never get a gradient, so they
  would keep their random start for good, and rankings by weight magnitude (L1 filter norms,
  the genome's filter strengths) would count that noise as if it had been trained."""
  for name in arch.inert_taps(image_size) if image_size is not None else ():
    kernel, bias = net.get_layer(name).get_weights()
    centre = kernel[1, 1].copy()
    kernel[:] = 0.0
    kernel[1, 1] = centre
    net.get_layer(name).set_weights([kernel, bias])


def layer_seeds(seed: int | None) -> dict:
  """Distinct initializer seeds per layer (and dropout) derived from one seed, or all None.

  SeedSequence spreads any seed 0 <= seed < 2**128 over the layers without collisions
  between nearby seeds; values stay below 2**31 for Keras's seed arguments.
  """
  names = list(arch.CONV_LAYERS) + ["drop9"]
  if seed is None:
    return dict.fromkeys(names)
  states = np.random.SeedSequence(seed).generate_state(len(names))
  return {n: int(s) & 0x7FFFFFFF for n, s in zip(names, states)}


def spec_of(model: keras.Model) -> dict[str, int]:
  return {name: int(model.get_layer(name).filters) for name in arch.CONV_LAYERS}


def spec_of_weights(weights: dict) -> dict[str, int]:
  """The spec of {conv layer: (kernel, bias)}: each kernel's output filters."""
  return {name: int(weights[name][0].shape[-1]) for name in arch.CONV_LAYERS}


def options_of(model: keras.Model) -> dict:
  """The builder options besides the spec that a network was built with."""
  size = model.input_shape[1]
  return {"image_size": None if size is None else int(size),
          "dropout": float(model.get_layer("drop9").rate),
          "head_activation": model.get_layer(arch.HEAD).get_config()["activation"]}


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


def foldable(model) -> bool:
  """Whether `model` is a network of this builder with a fixed input size at which some
  taps are inert (`arch.inert_taps`)."""
  names = {layer.name for layer in model.layers}
  if not set(arch.CONV_LAYERS) <= names or model.input_shape[1] is None:
    return False
  inert = arch.inert_taps(int(model.input_shape[1]))
  return bool(inert) and all(model.get_layer(n).kernel_size == (3, 3) for n in inert)


def centre_tap(kernel: np.ndarray) -> np.ndarray:
  """A 3x3 kernel (or its mask) cut to its centre tap, the one under a 1x1 input's pixel."""
  return kernel[1:2, 1:2]


def folded(model: keras.Model) -> keras.Model:
  """The same network at its own input size with its inert taps dropped (`arch.inert_taps`):
  each 3x3 layer that reads a 1x1 input becomes the 1x1 layer of its centre tap. Outputs
  are those of `model` at that size (the dropped taps only ever multiplied zero padding);
  at any other size they are not, so a model without a fixed input size is refused."""
  options = options_of(model)
  if options["image_size"] is None:
    raise ValueError("folding needs a fixed input size: the taps it drops are inert at one "
                     "size only; rebuild the model with an image_size first")
  if not foldable(model):
    return model  # nothing inert at this size, or folded already
  inert = arch.inert_taps(options["image_size"])
  spec = spec_of(model)
  out = graph.build(keras, spec, options["image_size"], options["dropout"],
                    options["head_activation"], model.name, pointwise=inert)
  weights = get_weights(model)
  for name in inert:
    kernel, bias = weights[name]
    weights[name] = (centre_tap(kernel), bias)
  set_weights(out, weights)
  return out


def release_form(model):
  """The network every export stores: a Keras 3 SqueezeNet with a fixed input size is folded
  (`folded`: the same outputs at that size, without the 3x3 taps that only meet zero padding,
  56% of the ancestor's weights at 32x32); any other model as it is. Such a file computes the
  trained network at its own input size only, the one its input signature fixes."""
  # tf_keras models (the legacy workers) are left as they are: their process holds no Keras 3.
  if type(model).__module__.split(".")[0] != "keras":
    return model
  return folded(model) if foldable(model) else model

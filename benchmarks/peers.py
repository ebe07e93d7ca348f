"""Peer models and baseline algorithms the benchmarks compare SquishedNets with.

Imported by the scripts beside it (`python benchmarks/<script>.py`); not part of the package.
  MobileNetV3-Small   `mobilenet_v3_small`, `recalibrate_batch_norm`
  uniform width       `width_spec`, `matched_width`: SqueezeNet v1.1 with every filter count
                      times alpha
  L1-norm pruning     `l1_prune_to`: the weakest filters of each layer removed through the
                      project's own surgery (Li et al. 2017, "Pruning Filters for Efficient
                      ConvNets"), `iterative_targets` for gradual pruning
  tfmot pruning       `run_tfmot`, in the legacy-Keras worker
  MACs                `keras_macs`, of any Keras model's conv and dense layers
Everything but `run_tfmot` and the Keras builders is numpy on plain specs and weights.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

BN_MOMENTUM = 0.99
# keras.applications.MobileNetV3Small(alpha, minimalistic) per variant name.
MOBILENET_VARIANTS = {"1.0": (1.0, False), "0.75": (0.75, False), "minimalistic": (1.0, True)}


def mobilenet_v3_small(image_size: int, classes: int, alpha: float = 1.0,
                       minimalistic: bool = False):
  """MobileNetV3-Small from scratch, taking our 0..1 inputs.

  With include_preprocessing=False Keras expects inputs in [-1, 1]; a Rescaling layer maps
  our 0..1 inputs there, so the network sees the range its recipe assumes. Its batch norms
  come with momentum 0.999, made for ImageNet's 20k steps an epoch: after the few hundred
  steps of a small data set the moving statistics are still mostly their initial values
  and the network predicts at chance in inference mode (seen on digits: 100% train, 7%
  validation). BN_MOMENTUM, Keras's own default, lets the statistics follow the data;
  `recalibrate_batch_norm` then settles them on the final weights.
  """
  import keras
  inputs = keras.Input((image_size, image_size, 3), name="image")
  x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_minus1_1")(inputs)
  net = keras.applications.MobileNetV3Small(
      input_shape=(image_size, image_size, 3), input_tensor=x, weights=None, classes=classes,
      alpha=alpha, minimalistic=minimalistic, include_preprocessing=False)
  for layer in net.layers:
    if isinstance(layer, keras.layers.BatchNormalization):
      layer.momentum = BN_MOMENTUM
  return net


def recalibrate_batch_norm(net, train_ds, batch_size: int) -> None:
  """Sets every batch norm's moving statistics to their average over the training split.

  Forward passes only (no weight changes): batch i enters with momentum i / (i + 1), so
  the moving values end as the mean of all batches' statistics under the final weights.
  """
  import keras

  from squish_tf import data
  norms = [layer for layer in net.layers
           if isinstance(layer, keras.layers.BatchNormalization)]
  saved = [layer.momentum for layer in norms]
  for i, (images, _) in enumerate(data.batches(train_ds, batch_size, cache=False)):
    for layer in norms:
      layer.momentum = i / (i + 1)
    net(images, training=True)
  for layer, momentum in zip(norms, saved):
    layer.momentum = momentum


def keras_macs(net) -> int:
  """Multiply-accumulates of one image through a Keras model's Conv2D, DepthwiseConv2D and
  Dense layers (nested models included); element-wise work is not counted.

  Each output value of these layers costs one MAC per kernel weight that reads it: a
  kernel's shape already holds its input channels per group (or per depthwise channel).
  """
  import keras
  total = 0
  for layer in net.layers:
    if isinstance(layer, keras.Model):
      total += keras_macs(layer)
    elif isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
                            keras.layers.Dense)):
      positions = int(np.prod(layer.output.shape[1:-1]))  # 1 for a Dense on a vector
      kernel = layer.kernel.shape
      if isinstance(layer, keras.layers.Dense):
        kernel = (kernel[0], kernel[1])
      total += positions * int(np.prod(kernel))
  return total


def closest(fn, target: float, lo: float, hi: float, iterations: int = 30) -> float:
  """The x in [lo, hi] whose fn(x) is closest to `target`, for fn monotone (bisection).

  fn may be a step function (filter counts are integers): every x evaluated is a
  candidate, so the step nearest the target is found, on whichever side of it.
  """
  seen = {}

  def value(x):
    if x not in seen:
      seen[x] = fn(x)
    return seen[x]

  increasing = value(hi) >= value(lo)
  for _ in range(iterations):
    mid = (lo + hi) / 2
    if (value(mid) < target) == increasing:
      lo = mid
    else:
      hi = mid
  return min(seen, key=lambda x: (abs(seen[x] - target), x))


def width_spec(alpha: float, num_classes: int) -> dict:
  """SqueezeNet v1.1 with every filter count times alpha, rounded, at least 1; conv10 keeps
  one filter per class."""
  from squish_tf.net import arch
  spec = {name: max(1, int(round(filters * alpha)))
          for name, filters in arch.ancestor_spec(num_classes).items()}
  spec[arch.HEAD] = num_classes
  return spec


def matched_width(target_params: int, num_classes: int) -> tuple[dict, float]:
  """(spec, alpha): the uniform width whose parameter count is closest to `target_params`."""
  from squish_tf.net import arch
  alpha = closest(lambda a: arch.param_count(width_spec(a, num_classes)), target_params,
                  0.0, 1.0)
  return width_spec(alpha, num_classes), alpha


def l1_dead_masks(weights: dict, masks: dict, fraction: float) -> dict:
  """`masks` with, in every conv layer but conv10, the `fraction` of filters with the
  smallest L1 norm (over their alive synapses) dead; every layer keeps at least one."""
  from squish_tf.net import arch
  out = {}
  for name, (kernel, _) in weights.items():
    mask = masks[name].copy()
    if name != arch.HEAD:
      norms = np.abs(np.where(mask, kernel, 0.0)).sum(axis=(0, 1, 2))
      n = len(norms)
      dead = np.argsort(norms, kind="stable")[:min(n - 1, int(round(fraction * n)))]
      mask[..., dead] = False
    out[name] = mask
  return out


def l1_prune(spec: dict, weights: dict, masks: dict, fraction: float,
             head_activation: str = "linear"):
  """The squished network (`surgery.Squished`) left when `fraction` of each layer's filters,
  the weakest by L1 norm, die: surgery removes them, the channels that read them through the
  fire concatenations, and whatever is left unread."""
  from squish_tf.evolve import surgery
  return surgery.squish(spec, weights, l1_dead_masks(weights, masks, fraction),
                        head_activation)


def l1_prune_to(spec: dict, weights: dict, masks: dict, target_params: int,
                head_activation: str = "linear"):
  """(squished, fraction): L1 pruning whose squished parameter count is closest to
  `target_params`, the fraction found by bisection."""
  from squish_tf.net import arch

  def params(fraction):
    return arch.param_count(l1_prune(spec, weights, masks, fraction, head_activation).spec)

  fraction = closest(params, target_params, 0.0, 1.0)
  return l1_prune(spec, weights, masks, fraction, head_activation), fraction


def l1_prune_in_steps(spec: dict, weights: dict, masks: dict, targets: list[int],
                      head_activation: str = "linear"):
  """The squished network left after `l1_prune_to` each target in turn, untrained between
  steps: the filter counts iterative pruning reaches (each step's rounding compounds, so the
  small layers lose fewer filters than one step to the last target takes)."""
  squished = None
  for target in targets:
    squished, _ = l1_prune_to(spec, weights, masks, target, head_activation)
    spec, weights, masks = squished.spec, squished.weights, squished.masks
  return squished


def iterative_targets(start_params: int, end_params: int, steps: int) -> list[int]:
  """Parameter targets of gradual pruning: the same ratio each step, ending at `end_params`."""
  ratio = end_params / start_params
  return [int(round(start_params * ratio ** (i / steps))) for i in range(1, steps + 1)]


def run_tfmot(ancestor, cfg: dict, sparsities: list[float], epochs: int, out_dir: str,
              bench_size: int, check_images) -> dict:
  """Prunes the ancestor with tfmot (`squish_tf.legacy.prune_worker`); returns its figures.

  `cfg` holds the run's dataset, data_dir, seed, batch_size and learning_rate; one pruning
  stage per entry of `sparsities`, `epochs` in all. Writes OUT_DIR/model.tflite at the
  training size and model_<bench_size>.tflite.
  """
  from squish_tf.legacy import worker
  from squish_tf.net import model as model_lib
  request = {"spec": model_lib.spec_of(ancestor), **model_lib.options_of(ancestor),
             "bench_image_size": bench_size, "dataset": cfg["dataset"],
             "data_dir": cfg["data_dir"], "data_seed": cfg["seed"], "seed": cfg["seed"],
             "epochs": epochs, "batch_size": cfg["batch_size"],
             "learning_rate": cfg["learning_rate"], "sparsities": sparsities,
             "out_dir": os.path.abspath(out_dir)}
  os.makedirs(out_dir, exist_ok=True)
  with tempfile.TemporaryDirectory(prefix="peers-tfmot-") as tmp:
    worker.write_inputs(tmp, request, model_lib.get_weights(ancestor), arrays={
        "check_images": check_images, "check_probs": ancestor.predict(check_images, verbose=0)})
    # The worker's training log goes straight to this terminal.
    return worker.run_worker("squish_tf.legacy.prune_worker", tmp, capture=False)

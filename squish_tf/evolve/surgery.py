"""Squish surgery: from a masked network to a smaller dense one (numpy only).

Section 4 of docs/evolutionary-synthesis.md. A filter is dead when all its
synapses are dead; dead filters leave their layer, and the input channels that
read them leave every consumer. A filter that no alive synapse of any consumer
reads is useless and leaves too. Repeat to a fixed point, then slice.

Equivalence needs one convention about biases: in the masked network a dead
filter's bias is masked too (the filter outputs relu(0) = 0), so removing it
changes nothing downstream. `squish_tf.evolve.masking` applies that convention.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from squish_tf.evolve.genome import alive_filters
from squish_tf.net import arch


@dataclasses.dataclass
class Squished:
  spec: dict  # {conv layer: filters}
  weights: dict  # {conv layer: (kernel, bias)}, sliced
  masks: dict  # {conv layer: boolean kernel mask}, sliced
  kept: dict  # {conv layer: indices of the parent's filters that survive}


def _input_slices(spec: dict, layer: str) -> dict[str, slice]:
  """Which input channels of `layer` come from each producer (concat order)."""
  slices, start = {}, 0
  for producer in arch.producers(layer):
    slices[producer] = slice(start, start + spec[producer])
    start += spec[producer]
  return slices


def live_filters(spec: dict, masks: dict) -> tuple[dict, dict]:
  """The filters that survive surgery (the fixed point), and the masks with dead parts zeroed.

  Live sets only shrink, so the loop ends. A layer never loses its last filter: if
  it would, it keeps the live filter with the most alive synapses in the genome.
  """
  masks = {name: masks[name].copy() for name in arch.CONV_LAYERS}
  synapses = {name: m.reshape(-1, m.shape[-1]).sum(axis=0) for name, m in masks.items()}
  live = {name: alive_filters(masks[name]) for name in arch.CONV_LAYERS}
  live[arch.HEAD][:] = True  # one filter per class, always
  while True:
    for layer in arch.CONV_LAYERS:
      masks[layer][..., ~live[layer]] = False  # a dead filter has no synapses
      for producer, cols in _input_slices(spec, layer).items():
        rows = np.arange(cols.start, cols.stop)[~live[producer]]
        masks[layer][:, :, rows, :] = False  # nothing reads a dead input channel
    changed = False
    for layer in arch.CONV_LAYERS:
      if layer == arch.HEAD:
        continue
      read = np.zeros(spec[layer], dtype=bool)  # read by an alive synapse of some consumer
      for consumer in arch.consumers(layer):
        cols = _input_slices(spec, consumer)[layer]
        read |= masks[consumer][:, :, cols, :].any(axis=(0, 1, 3))
      now = alive_filters(masks[layer]) & read
      if not now.any():
        now[np.argmax(np.where(live[layer], synapses[layer], -1))] = True
      if np.any(now != live[layer]):
        live[layer], changed = now, True
    if not changed:
      return live, masks


def squish(spec: dict, weights: dict, masks: dict) -> Squished:
  """Removes every dead or useless filter and the channels reading it."""
  spec = arch.validate_spec(spec)
  live, masks = live_filters(spec, masks)
  kept = {name: np.flatnonzero(live[name]) for name in arch.CONV_LAYERS}
  new_weights, new_masks = {}, {}
  for layer in arch.CONV_LAYERS:
    kernel, bias = weights[layer]
    mask = masks[layer]
    if arch.producers(layer):
      rows = np.concatenate([cols.start + kept[p]
                             for p, cols in _input_slices(spec, layer).items()])
      kernel, mask = kernel[:, :, rows, :], mask[:, :, rows, :]
    cols = kept[layer]
    new_mask = mask[..., cols]
    # A filter kept only so that its layer is not empty may have no synapse left:
    # like any dead filter in the masked network, its bias is masked too.
    new_weights[layer] = (np.where(new_mask, kernel[..., cols], 0.0).astype(kernel.dtype),
                          np.where(alive_filters(new_mask), bias[cols], 0.0).astype(bias.dtype))
    new_masks[layer] = new_mask
  new_spec = {name: int(len(kept[name])) for name in arch.CONV_LAYERS}
  return Squished(spec=new_spec, weights=new_weights, masks=new_masks, kept=kept)

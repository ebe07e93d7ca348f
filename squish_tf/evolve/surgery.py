"""Squish surgery: from a masked network to a smaller dense one that computes the same function.

docs/evolutionary-synthesis.md, section 4. The masked network is the parent's weights with
the offspring's kernel masks applied, and the bias of a filter with no alive synapse masked
too (`squish_tf.evolve.masking`). Surgery removes only what provably does not change that
network's output, in two passes over the layers:

Forward (inputs first), every filter gets a status:
- ZERO: its output is exactly 0 (no alive synapse reads a non-zero input, and its
  pre-activation bias, with any constant inputs folded in, is <= 0 under ReLU).
- CONST(v): its output is the same number v at every pixel: no alive synapse reads a
  varying input, and every alive synapse that reads a constant input is a kernel's centre
  tap (a 1x1 kernel's only tap, or the centre of a 3x3 with same padding; any other tap
  sees the zero padding at the borders, so the output would vary).
- LIVE: anything else.
Max-pooling and dropout (at inference) keep a constant map constant.

Backward (outputs first), a filter is kept when its output matters:
- conv10's filters (one per class) are always kept;
- a LIVE filter is kept when a kept filter reads it with an alive synapse;
- a CONST filter that is read is folded into its readers' biases (exact: every read is a
  centre tap) unless a reader reads it through another tap, or a reader is itself kept as a
  constant (its bias must stay tied to its own inputs): then it is kept with its reads;
- a ZERO filter is removed, with every synapse reading it, unless a kept CONST filter has no
  other input: then the first zero channel it reads is kept as its anchor (an empty filter
  that outputs 0), so the constant filter keeps an alive synapse and with it its bias.
- A layer left with no filter keeps one empty placeholder (outputs 0, read by nothing).
Applying the rules to their own result changes nothing: surgery is a fixed point.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from squish_tf.evolve.genome import alive_filters
from squish_tf.net import arch

ZERO, CONST, LIVE = 0, 1, 2


@dataclasses.dataclass
class Squished:
  spec: dict  # {conv layer: filters}
  weights: dict  # {conv layer: (kernel, bias)}, sliced, folded constants in the biases
  masks: dict  # {conv layer: boolean kernel mask}, sliced
  kept: dict  # {conv layer: indices of the parent's filters that survive}


def _concat(per_layer: dict, layer: str) -> np.ndarray:
  """A per-filter array of `layer`'s producers, concatenated as its input channels are."""
  return np.concatenate([per_layer[p] for p in arch.producers(layer)])


def _centre(mask: np.ndarray) -> np.ndarray:
  """The centre tap of a kernel-shaped array: [cin, cout]."""
  k = mask.shape[0]
  return mask[k // 2, k // 2]


def _off_centre(mask: np.ndarray) -> np.ndarray:
  """Whether any tap other than the centre is set: [cin, cout]."""
  k = mask.shape[0]
  other = mask.copy()
  other[k // 2, k // 2] = False
  return other.any(axis=(0, 1))


def statuses(spec: dict, weights: dict, masks: dict, head_activation: str = "linear"):
  """The forward pass: {layer: status per filter}, {layer: constant value per filter}."""
  status, value = {}, {}
  for layer in arch.CONV_LAYERS:
    mask = masks[layer]
    kernel = np.where(mask, weights[layer][0], 0.0).astype(np.float64)
    bias = np.where(alive_filters(mask), weights[layer][1], 0.0).astype(np.float64)
    if not arch.producers(layer):  # conv1 reads the image
      status[layer] = np.where(alive_filters(mask), LIVE, ZERO)
      value[layer] = np.zeros(spec[layer])
      continue
    inputs, in_value = _concat(status, layer), _concat(value, layer)
    reads = mask.any(axis=(0, 1))  # [cin, cout]
    live = reads[inputs == LIVE].any(axis=0) | _off_centre(mask)[inputs == CONST].any(axis=0)
    pre = bias + _centre(kernel)[inputs == CONST].T @ in_value[inputs == CONST]
    out = pre if (layer == arch.HEAD and head_activation == "linear") else np.maximum(pre, 0.0)
    status[layer] = np.where(live, LIVE, np.where(out != 0.0, CONST, ZERO))
    value[layer] = np.where(status[layer] == CONST, out, 0.0)
  return status, value


def _reads(masks: dict, spec: dict, consumer: str, producer: str) -> np.ndarray:
  """[producer filters, consumer filters]: alive synapses of `consumer` reading `producer`."""
  return masks[consumer][:, :, arch.input_slices(spec, consumer)[producer], :].any(axis=(0, 1))


def plan(spec: dict, weights: dict, masks: dict, head_activation: str = "linear") -> dict:
  """The backward pass: which filters are kept, folded, left empty, and who anchors whom.

  Returns {"status", "value", "keep", "fold", "empty", "anchor"}, each {layer: per-filter
  array}: `empty` marks kept filters that output 0 (anchors, placeholders) and so read
  nothing; `anchor[layer][o]` is the input channel kept constant filter o keeps as its
  anchor, or -1.
  """
  status, value = statuses(spec, weights, masks, head_activation)
  keep, fold, empty, anchor = {}, {}, {}, {}
  for layer in reversed(arch.CONV_LAYERS):
    n, s = spec[layer], status[layer]
    if layer == arch.HEAD:
      keep[layer], fold[layer], empty[layer] = np.ones(n, bool), np.zeros(n, bool), s == ZERO
    else:
      read_by_kept = np.zeros(n, bool)  # by a kept filter that reads, with an alive synapse
      must_keep = np.zeros(n, bool)  # a constant that cannot be folded into its readers
      anchored = np.zeros(n, bool)
      for consumer in arch.consumers(layer):
        rows = arch.input_slices(spec, consumer)[layer]
        active = keep[consumer] & ~empty[consumer]
        reads = _reads(masks, spec, consumer, layer) & active[None, :]
        const_reader = active & (status[consumer] == CONST)
        off_centre = _off_centre(masks[consumer])[rows]
        read_by_kept |= reads.any(axis=1)
        must_keep |= (reads & (const_reader[None, :] | off_centre)).any(axis=1)
        own = anchor[consumer] - rows.start
        anchored[own[(own >= 0) & (own < n)]] = True
      keep[layer] = (((s == LIVE) & read_by_kept) | ((s == CONST) & must_keep)
                     | ((s == ZERO) & anchored))
      fold[layer] = (s == CONST) & read_by_kept & ~must_keep
      empty[layer] = keep[layer] & (s == ZERO)
      if not keep[layer].any():  # a placeholder, empty: the filter with the most synapses
        placeholder = np.argmax(masks[layer].sum(axis=(0, 1, 2)))
        keep[layer][placeholder] = empty[layer][placeholder] = True
    anchor[layer] = np.full(n, -1)
    if arch.producers(layer):
      inputs = _concat(status, layer)
      reads = masks[layer].any(axis=(0, 1))
      for o in np.flatnonzero(keep[layer] & ~empty[layer] & (s == CONST)):
        if not reads[inputs == CONST, o].any():
          anchor[layer][o] = np.flatnonzero(reads[:, o] & (inputs == ZERO))[0]
  return {"status": status, "value": value, "keep": keep, "fold": fold, "empty": empty,
          "anchor": anchor}


def squish(spec: dict, weights: dict, masks: dict, head_activation: str = "linear") -> Squished:
  """The smallest dense network (per the rules above) computing what the masked one does."""
  spec = arch.validate_spec(spec)
  p = plan(spec, weights, masks, head_activation)
  kept = {name: np.flatnonzero(p["keep"][name]) for name in arch.CONV_LAYERS}
  new_weights, new_masks = {}, {}
  for layer in arch.CONV_LAYERS:
    kernel, bias = weights[layer]
    mask = masks[layer].copy()
    bias = np.where(alive_filters(mask), bias, 0.0).astype(np.float64)
    if arch.producers(layer):
      folded, in_value = _concat(p["fold"], layer), _concat(p["value"], layer)
      masked = np.where(mask, kernel, 0.0).astype(np.float64)
      bias = bias + _centre(masked)[folded].T @ in_value[folded]
      # Channels that output 0 are read by nothing, but a constant filter's anchor.
      silent = (_concat(p["status"], layer) == ZERO) | _concat(p["empty"], layer)
      anchors = p["anchor"][layer]
      mask[:, :, silent, :] = False
      for o in np.flatnonzero(anchors >= 0):
        mask[:, :, anchors[o], o] = masks[layer][:, :, anchors[o], o]
      rows = np.concatenate([cols.start + kept[producer]
                             for producer, cols in arch.input_slices(spec, layer).items()])
      kernel, mask = kernel[:, :, rows, :], mask[:, :, rows, :]
    cols = kept[layer]
    new_mask = mask[..., cols]
    new_mask[..., p["empty"][layer][cols]] = False
    new_weights[layer] = (np.where(new_mask, kernel[..., cols], 0.0).astype(kernel.dtype),
                          np.where(alive_filters(new_mask), bias[cols], 0.0).astype(
                              weights[layer][1].dtype))
    new_masks[layer] = new_mask
  new_spec = {name: int(len(kept[name])) for name in arch.CONV_LAYERS}
  return Squished(spec=new_spec, weights=new_weights, masks=new_masks, kept=kept)


def image_dependent(masks: dict) -> dict:
  """{layer: per filter, whether its output depends on the input image at all}: an alive
  synapse reads the image or a filter that does. (A LIVE filter may vary only with the
  zero padding at the borders, and still ignore the image.)"""
  dep = {}
  for layer in arch.CONV_LAYERS:
    reads = masks[layer].any(axis=(0, 1))
    if not arch.producers(layer):
      dep[layer] = reads.any(axis=0)
    else:
      dep[layer] = reads[_concat(dep, layer)].any(axis=0)
  return dep


def classes_without_live_input(squished: Squished) -> list[int]:
  """Classes whose conv10 filter does not depend on the image: their score is fixed."""
  return [int(c) for c in np.flatnonzero(~image_dependent(squished.masks)[arch.HEAD])]

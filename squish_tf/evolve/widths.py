"""Hardware-friendly widths: every squished layer's filter count a multiple of `multiple`.

Vector units (XNNPACK's SIMD kernels on a phone CPU, GPU warps) process channels in groups;
a layer of 21 filters computes at nearly the speed of 24 while paying for 21. After a draw,
each conv layer (not conv10, one filter per class) is brought to the nearest multiple that
its parent allows: filters beyond it go, weakest first (by coupled-group strength,
`genome.group_strengths`), or filters this draw killed come back, strongest first, with
their parent synapses and the parent synapses that read them. Heredity holds: only filters
alive in the parent come back. Surgery can then remove more (a filter nobody reads), so the
rounding and the squish repeat until every width is a multiple (a few rounds at most).
Squeeze layers may take a finer multiple (`squeeze_multiple`): they start at 16-64 filters, and
at small inputs the 3x3 expand layers reading them hold most MACs, so steps of 8 keep them wide.
"""

from __future__ import annotations

import numpy as np

from squish_tf.evolve import genome, surgery
from squish_tf.net import arch

MAX_ROUNDS = 6


def target(count: int, parent_count: int, multiple: int) -> int:
  """The multiple of `multiple` nearest to `count` (halves down), within [multiple, parent's]."""
  ceiling = max(parent_count // multiple * multiple, min(parent_count, multiple))
  nearest = int(np.floor(count / multiple + 0.5 - 1e-9)) * multiple
  return int(min(max(nearest, multiple), ceiling))


def multiples(multiple: int, squeeze_multiple: int = 0) -> dict[str, int]:
  """Each non-head conv layer's multiple: `squeeze_multiple` (if set) for squeeze layers."""
  squeezes = {arch.fire_layers(fid)[0] for fid in arch.FIRE_IDS}
  return {n: squeeze_multiple if squeeze_multiple and n in squeezes else multiple
          for n in arch.CONV_LAYERS if n != arch.HEAD}


def round_to_multiple(spec: dict, weights: dict, parent_masks: dict, child_masks: dict,
                      of: dict[str, int], head_activation: str = "linear"):
  """(child masks, their squished network) with each layer named in `of` (see `multiples`)
  a multiple of its own multiple, when the parent allows it; a layer whose parent has fewer
  filters than its multiple keeps its own."""
  if max(of.values()) <= 1:
    masks = child_masks
    return masks, surgery.squish(spec, weights, masks, head_activation)
  masks = {name: m.copy() for name, m in child_masks.items()}
  parent_alive = {n: genome.alive_filters(parent_masks[n]) for n in arch.CONV_LAYERS}
  parent_strength = genome.group_strengths(weights, parent_masks)
  for _ in range(MAX_ROUNDS):
    squished = surgery.squish(spec, weights, masks, head_activation)
    kept = {n: np.isin(np.arange(spec[n]), squished.kept[n]) for n in arch.CONV_LAYERS}
    wrong = [n for n in of
             if kept[n].sum() != target(int(kept[n].sum()), int(parent_alive[n].sum()), of[n])]
    if not wrong:
      return masks, squished
    strength = genome.group_strengths(weights, masks)
    for name in wrong:
      have = int(kept[name].sum())
      want = target(have, int(parent_alive[name].sum()), of[name])
      if want < have:
        _kill(masks, name, np.flatnonzero(kept[name]), strength[name], have - want)
      else:
        candidates = np.flatnonzero(parent_alive[name] & ~kept[name])
        _revive(masks, parent_masks, spec, name, candidates, parent_strength[name], want - have)
  return masks, surgery.squish(spec, weights, masks, head_activation)


def _kill(masks: dict, layer: str, kept: np.ndarray, strength: np.ndarray, count: int) -> None:
  """Kills the `count` weakest kept filters of `layer` (their whole kernel column)."""
  weakest = kept[np.argsort(strength[kept], kind="stable")[:count]]
  masks[layer][..., weakest] = False


def _revive(masks: dict, parent_masks: dict, spec: dict, layer: str, candidates: np.ndarray,
            strength: np.ndarray, count: int) -> None:
  """Brings back the `count` strongest parent filters among `candidates`, with their own
  parent synapses and the parent synapses that read them."""
  strongest = candidates[np.argsort(-strength[candidates], kind="stable")[:count]]
  masks[layer][..., strongest] = parent_masks[layer][..., strongest]
  for consumer in arch.consumers(layer):
    rows = arch.input_slices(spec, consumer)[layer].start + strongest
    alive = genome.alive_filters(masks[consumer])
    masks[consumer][:, :, rows, :] |= parent_masks[consumer][:, :, rows, :] & alive

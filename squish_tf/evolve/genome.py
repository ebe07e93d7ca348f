"""The genetic encoding and offspring synthesis, in numpy only (no Keras).

A genome is {conv layer: boolean kernel mask}. Offspring masks are drawn from the
parent's weights as in docs/evolutionary-synthesis.md section 3:

  p_syn(i) = exp(|w_i| / Z) - 1,  Z = max_j |w_j| / ln 2      (alive synapses)
  p_clu(c) = exp(s_c / Z') - 1,   s_c = sum of alive |w| in filter c, Z' = max_c s_c / ln 2

and the environmental factor R either multiplies them (`paper`, equation (1) taken
literally) or fixes the expected kept fraction (`budget`: one scalar per layer, found
by bisection, scales the probabilities so that their clipped mean is R).

`mac_pressure` (alpha >= 0) moves the cluster pressure to where the MACs are: a layer whose
filters each cost rho times the network's mean MACs per filter keeps r_clu ** min(4, max(1,
rho**alpha)) of them (`cluster_factors`). At small inputs the MACs sit in the first,
high-resolution layers while the parameters sit in the last ones; the squeeze layers there
cost most per filter (both expand layers read each of their channels). alpha = 0 is the same
factor everywhere. `mac_relief` lets the power fall below 1 as well, so that the layers
cheapest in MACs (fire6-9's expand layers at small inputs) keep more than r_clu: the pressure
follows time, not parameters.

`structured` concentrates deaths in whole filters: a filter's strength is that of its
coupled group (its own synapses and every synapse that reads its channel, through the fire
modules' concatenations), clusters are drawn with the `budget` rule, and no synapse dies
inside a living filter (a stored zero saves nothing in a dense file).

`ranked` is `structured` with the draw deciding only how many filters of each layer die:
the ones that die are the weakest coupled groups. The count stays random, the choice does not,
so a strong filter is not lost to chance (width rounding then adds or removes filters by
strength too). Offspring of one parent whose layers round to the same widths are the same
network, trained from their own seeds.
"""

from __future__ import annotations

import numpy as np

from squish_tf.net import arch

MODES = ("budget", "paper", "structured", "ranked")
COUPLED = ("structured", "ranked")  # whole filters die, weighed by coupled-group strength


def check_factor(name: str, value: float) -> float:
  if not 0.0 < value <= 1.0:
    raise ValueError(f"{name} must be in (0, 1], got {value}; it is the fraction each "
                     f"generation keeps, e.g. 0.9")
  return float(value)


def full_masks(weights: dict) -> dict[str, np.ndarray]:
  """The ancestor's genome: every synapse alive."""
  return {name: np.ones(kernel.shape, dtype=bool) for name, (kernel, _) in weights.items()}


def strength_probabilities(strength: np.ndarray, alive: np.ndarray) -> np.ndarray:
  """exp(s / Z) - 1 with Z = max alive s / ln 2, so the strongest gets 1; dead ones get 0."""
  strength = np.where(alive, np.abs(strength), 0.0).astype(np.float64)
  top = strength.max(initial=0.0)
  if top <= 0.0:
    return np.zeros_like(strength)
  return np.where(alive, np.expm1(strength * np.log(2.0) / top), 0.0)


def synaptic_probabilities(kernel: np.ndarray, mask: np.ndarray) -> np.ndarray:
  return strength_probabilities(kernel, mask)


def cluster_strengths(kernel: np.ndarray, mask: np.ndarray) -> np.ndarray:
  """s_c: the alive |w| of each output filter (the last kernel axis)."""
  return np.abs(np.where(mask, kernel, 0.0)).reshape(-1, kernel.shape[-1]).sum(axis=0)


def cluster_probabilities(kernel: np.ndarray, mask: np.ndarray) -> np.ndarray:
  alive = mask.reshape(-1, mask.shape[-1]).any(axis=0)
  return strength_probabilities(cluster_strengths(kernel, mask), alive)


def group_strengths(weights: dict, masks: dict) -> dict[str, np.ndarray]:
  """Per filter, the alive |w| of its coupled group: the synapses it owns (normalised by the
  layer's mean) plus the synapses that read its channel in every consumer (likewise)."""
  spec = {name: masks[name].shape[-1] for name in arch.CONV_LAYERS}
  out = {}
  for name in arch.CONV_LAYERS:
    own = cluster_strengths(weights[name][0], masks[name])
    reads = np.zeros(spec[name])
    for consumer in arch.consumers(name):
      rows = arch.input_slices(spec, consumer)[name]
      kernel, mask = weights[consumer][0][:, :, rows, :], masks[consumer][:, :, rows, :]
      reads += np.abs(np.where(mask, kernel, 0.0)).sum(axis=(0, 1, 3))
    out[name] = _relative(own) + (_relative(reads) if arch.consumers(name) else 0.0)
  return out


def _relative(values: np.ndarray) -> np.ndarray:
  mean = values[values > 0].mean() if (values > 0).any() else 1.0
  return values / mean


def budget_scale(probs: np.ndarray, alive: np.ndarray, target: float, iters: int = 60) -> float:
  """Scalar a with mean(clip(a * p, 0, 1)) over alive entries == target, by bisection.

  When the target is not reachable (too many zero probabilities) the largest
  reachable mean is used: every entry with p > 0 is then kept.
  """
  p = probs[alive]
  if p.size == 0 or p.max() <= 0.0:
    return 0.0
  kept = lambda a: np.minimum(a * p, 1.0).mean()
  lo, hi = 0.0, 1.0
  while kept(hi) < target and hi < 1e12:
    hi *= 2.0
  for _ in range(iters):
    mid = 0.5 * (lo + hi)
    lo, hi = (mid, hi) if kept(mid) < target else (lo, mid)
  return hi


def keep_probabilities(probs: np.ndarray, alive: np.ndarray, factor: float,
                       mode: str) -> np.ndarray:
  if mode == "paper":
    return np.clip(factor * probs, 0.0, 1.0)
  if mode == "budget" or mode in COUPLED:
    return np.clip(budget_scale(probs, alive, factor) * probs, 0.0, 1.0)
  raise ValueError(f"synthesis mode must be one of {MODES}, got {mode!r}")


# The harshest a layer's factor gets, as a power of r_clu: fire2-3's squeeze filters cost
# about 20 mean filters at 32x32, and an uncapped power would empty them in one generation.
MAX_PRESSURE = 4.0


def cluster_factors(spec: dict, r_clu: float, mac_pressure: float,
                    image_size: int, relief: bool = False) -> dict[str, float]:
  """Each non-head layer's cluster factor: r_clu ** min(MAX_PRESSURE, max(1, rho **
  mac_pressure)), rho being its MACs per filter (`arch.filter_macs`) over the mean filter's;
  never milder than r_clu. With `relief` the power may fall below 1 too: layers cheaper than
  the mean filter keep more than r_clu (r_clu ** rho ** mac_pressure)."""
  layers = [n for n in arch.CONV_LAYERS if n != arch.HEAD]
  cost = arch.filter_macs(spec, image_size)
  mean = sum(spec[n] * cost[n] for n in layers) / sum(spec[n] for n in layers)
  least = 0.0 if relief else 1.0
  power = {n: min(MAX_PRESSURE, max(least, (cost[n] / mean) ** mac_pressure)) for n in layers}
  return {n: float(r_clu ** power[n]) for n in layers}


def generation_rng(seed: int, generation: int, offspring: int = 0,
                   attempt: int = 0) -> np.random.Generator:
  """One generator per (run seed, generation, offspring, draw attempt), through numpy's
  SeedSequence: resumed runs and other machines draw the same masks, and no two
  (seed, generation, offspring, attempt) share a stream."""
  return np.random.default_rng([seed, generation, offspring, attempt])


def sample_offspring(weights: dict, masks: dict, r_syn: float, r_clu: float | dict, mode: str,
                     rng: np.random.Generator) -> dict[str, np.ndarray]:
  """Draws an offspring genome: parent mask AND drawn mask, layer by layer.

  `r_clu` is one cluster factor for every layer, or each non-head layer's own
  (`cluster_factors`).

  A cluster (output filter) lives with its keep probability; a synapse lives if its
  cluster lives and it is drawn. conv10's filters (one per class) always live, and each
  keeps at least its strongest parent synapse, so no class loses every input. A layer
  that would lose every filter keeps its strongest one with its parent synapses.
  """
  check_factor("r_syn", r_syn)
  if mode not in MODES:
    raise ValueError(f"synthesis mode must be one of {MODES}, got {mode!r}")
  groups = group_strengths(weights, masks) if mode in COUPLED else None
  offspring = {}
  for name in arch.CONV_LAYERS:
    kernel, mask = weights[name][0], masks[name]
    alive_filters = mask.reshape(-1, mask.shape[-1]).any(axis=0)
    if name == arch.HEAD:
      clusters = alive_filters.copy()
    else:
      strength = (cluster_probabilities(kernel, mask) if groups is None
                  else strength_probabilities(groups[name], alive_filters))
      factor = r_clu[name] if isinstance(r_clu, dict) else r_clu
      p_clu = keep_probabilities(strength, alive_filters, check_factor("r_clu", factor), mode)
      clusters = alive_filters & (rng.random(p_clu.shape) < p_clu)
      if mode == "ranked":
        # at least one, as every mode keeps a layer that would lose every filter
        clusters = keep_strongest(groups[name], alive_filters, max(1, int(clusters.sum())))
    if mode in COUPLED and name != arch.HEAD:
      child = mask & clusters
    else:
      p_syn = keep_probabilities(synaptic_probabilities(kernel, mask), mask, r_syn, mode)
      child = mask & (rng.random(p_syn.shape) < p_syn) & clusters
    if name == arch.HEAD:
      _keep_one_synapse_per_filter(child, kernel, mask)
    if not child.any():
      strongest = int(np.argmax(np.where(alive_filters, cluster_strengths(kernel, mask), -1.0)))
      child[..., strongest] = mask[..., strongest]
    offspring[name] = child
  return offspring


def keep_strongest(strength: np.ndarray, alive: np.ndarray, count: int) -> np.ndarray:
  """A boolean mask of the `count` strongest alive entries (ties: the lower index)."""
  index = np.flatnonzero(alive)
  keep = np.zeros(alive.shape, dtype=bool)
  keep[index[np.argsort(-strength[index], kind="stable")[:count]]] = True
  return keep


def _keep_one_synapse_per_filter(child: np.ndarray, kernel: np.ndarray, mask: np.ndarray) -> None:
  """Gives every filter left without a synapse its strongest alive parent synapse back."""
  flat_child, flat_mask = child.reshape(-1, child.shape[-1]), mask.reshape(-1, mask.shape[-1])
  strength = np.where(flat_mask, np.abs(kernel.reshape(flat_mask.shape)), -1.0)
  for f in np.flatnonzero(~flat_child.any(axis=0) & flat_mask.any(axis=0)):
    flat_child[np.argmax(strength[:, f]), f] = True


def alive_filters(mask: np.ndarray) -> np.ndarray:
  """Output filters with at least one alive synapse."""
  return mask.reshape(-1, mask.shape[-1]).any(axis=0)


def alive_params(masks: dict) -> int:
  """Alive synapses plus the biases of alive filters."""
  return int(sum(m.sum() + alive_filters(m).sum() for m in masks.values()))


def check_heredity(parent: dict, child: dict) -> None:
  """Raises if the child revives a synapse dead in the parent (same shapes required)."""
  for name, mask in child.items():
    if np.any(mask & ~parent[name]):
      raise AssertionError(f"{name}: offspring revives synapses dead in the parent")

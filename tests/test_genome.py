"""Mask math (numpy only): probabilities, environmental factor modes, sampling rules."""

import numpy as np
import pytest

from squish_tf.evolve import genome
from squish_tf.net import arch


def random_weights(seed=0, spec=None):
  rng = np.random.default_rng(seed)
  spec = spec or arch.ancestor_spec(10)
  return {n: (rng.normal(size=arch.kernel_shape(spec, n)).astype(np.float32),
              rng.normal(size=spec[n]).astype(np.float32)) for n in arch.CONV_LAYERS}


def test_synaptic_probability_is_one_for_the_strongest_and_zero_for_dead():
  w = np.array([0.5, -2.0, 1.0, 3.0])
  mask = np.array([True, True, True, False])
  p = genome.synaptic_probabilities(w, mask)
  assert p[1] == pytest.approx(1.0)  # |-2| is the strongest alive synapse
  assert p[3] == 0.0  # dead stays dead even though |3| is larger
  assert p[0] == pytest.approx(np.exp(0.5 * np.log(2) / 2.0) - 1)
  assert np.all(np.diff(genome.synaptic_probabilities(np.array([0.1, 0.2, 0.4]),
                                                      np.ones(3, bool))) > 0)


def test_cluster_probability_uses_alive_filter_strength():
  kernel = np.zeros((1, 1, 2, 3))
  kernel[..., 0] = [1.0, 1.0]
  kernel[..., 1] = [4.0, 0.0]
  kernel[..., 2] = [9.0, 9.0]
  mask = np.ones_like(kernel, bool)
  mask[..., 2] = False  # filter 2 is dead: it does not set the scale
  p = genome.cluster_probabilities(kernel, mask)
  assert p[1] == pytest.approx(1.0) and p[2] == 0.0
  assert p[0] == pytest.approx(np.exp(2.0 * np.log(2) / 4.0) - 1)


@pytest.mark.parametrize("target", [0.3, 0.7, 0.95])
def test_budget_scale_hits_the_expected_kept_fraction(target):
  rng = np.random.default_rng(1)
  alive = rng.random(5000) < 0.8
  p = genome.strength_probabilities(rng.normal(size=5000), alive)
  keep = genome.keep_probabilities(p, alive, target, "budget")
  assert keep[alive].mean() == pytest.approx(target, abs=1e-6)
  assert np.all(keep[~alive] == 0)


def test_paper_mode_is_r_times_probability():
  p = np.array([0.2, 0.5, 1.0])
  np.testing.assert_allclose(genome.keep_probabilities(p, np.ones(3, bool), 0.8, "paper"),
                             [0.16, 0.4, 0.8])


def test_budget_draw_keeps_about_r_of_alive_synapses_and_obeys_heredity():
  w = random_weights()
  parent = genome.full_masks(w)
  child = genome.sample_offspring(w, parent, r_syn=0.8, r_clu=1.0, mode="budget",
                                  rng=genome.generation_rng(0, 1))
  kept = sum(child[n].sum() for n in arch.CONV_LAYERS if n != "conv10") / sum(
      parent[n].sum() for n in arch.CONV_LAYERS if n != "conv10")
  assert kept == pytest.approx(0.8, abs=0.01)
  grandchild = genome.sample_offspring(w, child, 0.8, 0.9, "budget", genome.generation_rng(0, 2))
  genome.check_heredity(child, grandchild)
  for n in arch.CONV_LAYERS:
    assert not np.any(grandchild[n] & ~child[n])


def test_cluster_draw_kills_whole_filters_but_never_the_head():
  w = random_weights(2)
  child = genome.sample_offspring(w, genome.full_masks(w), r_syn=1.0, r_clu=0.5, mode="budget",
                                  rng=genome.generation_rng(3, 1))
  alive = genome.alive_filters(child["fire6_expand3x3"])
  assert 0.35 < alive.mean() < 0.65
  assert genome.alive_filters(child["conv10"]).all()


def test_a_layer_is_never_emptied():
  w = random_weights(4)
  masks = genome.full_masks(w)
  # A paper-mode draw with a tiny R empties almost everything.
  child = genome.sample_offspring(w, masks, 1e-6, 1e-6, "paper", genome.generation_rng(0, 1))
  for n in arch.CONV_LAYERS:
    assert genome.alive_filters(child[n]).any(), n
  strongest = np.argmax(genome.cluster_strengths(w["fire3_expand1x1"][0], masks["fire3_expand1x1"]))
  assert genome.alive_filters(child["fire3_expand1x1"])[strongest]


def test_same_seed_same_draw_other_generation_other_draw():
  w = random_weights(5)
  m = genome.full_masks(w)
  a = genome.sample_offspring(w, m, 0.7, 0.8, "budget", genome.generation_rng(9, 1))
  b = genome.sample_offspring(w, m, 0.7, 0.8, "budget", genome.generation_rng(9, 1))
  c = genome.sample_offspring(w, m, 0.7, 0.8, "budget", genome.generation_rng(9, 2))
  assert all(np.array_equal(a[n], b[n]) for n in arch.CONV_LAYERS)
  assert not all(np.array_equal(a[n], c[n]) for n in arch.CONV_LAYERS)


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5])
def test_environmental_factor_outside_unit_interval_is_refused(bad):
  w = random_weights()
  with pytest.raises(ValueError, match=r"\(0, 1\]"):
    genome.sample_offspring(w, genome.full_masks(w), bad, 0.9, "budget",
                            genome.generation_rng(0, 1))


def test_every_class_keeps_a_synapse_however_harsh_the_draw():
  w = random_weights(6)
  masks = genome.full_masks(w)
  for g in range(1, 4):  # r_syn 0.02: left alone, most conv10 columns would empty
    masks = genome.sample_offspring(w, masks, 0.02, 0.5, "paper", genome.generation_rng(1, g))
    assert genome.alive_filters(masks["conv10"]).all(), g
  strongest = np.argmax(np.abs(w["conv10"][0][0, 0, :, 4]))
  child = genome.sample_offspring(w, genome.full_masks(w), 1e-6, 1.0, "paper",
                                  genome.generation_rng(0, 1))
  assert child["conv10"][0, 0, strongest, 4]  # the strongest synapse is the one kept


def test_draw_streams_are_distinct_for_every_seed_generation_offspring_and_attempt():
  draws = {}
  for key in [(s, g, k, a) for s in (0, 1, 10, 2**32 - 1) for g in (0, 1, 15) for k in (0, 3)
              for a in (0, 1)]:
    draws[key] = tuple(genome.generation_rng(*key).integers(0, 2**62, size=2))
  assert len(set(draws.values())) == len(draws)
  assert draws[(10, 1, 0, 0)] == tuple(genome.generation_rng(10, 1).integers(0, 2**62, size=2))


def test_filter_macs_are_what_removing_one_filter_saves():
  # Its own kernel over its output, and the weights reading its channel in every consumer.
  spec = {**arch.ancestor_spec(10), "conv1": 24, "fire5_expand3x3": 40, "fire9_squeeze1x1": 8}
  for size in (32, 64):
    cost = arch.filter_macs(spec, size)
    for n in arch.CONV_LAYERS:
      assert arch.macs(spec, size) - arch.macs({**spec, n: spec[n] - 1}, size) == cost[n], n


def test_mac_pressure_falls_on_the_high_resolution_layers_and_never_eases_any():
  spec = arch.ancestor_spec(10)
  assert set(genome.cluster_factors(spec, 0.88, 0.0, 32).values()) == {0.88}
  factors = genome.cluster_factors(spec, 0.88, 0.5, 32)
  assert max(factors.values()) == pytest.approx(0.88)
  assert factors["conv1"] < 0.8 and factors["fire2_squeeze1x1"] < 0.6  # side 15 and 7
  assert factors["fire9_expand1x1"] == pytest.approx(0.88)  # side 1, few MACs a filter
  # fire2's squeeze filters cost ~18 mean filters: capped at r_clu**4, never emptied at once
  harsh = genome.cluster_factors(spec, 0.1, 1.0, 32)
  assert min(harsh.values()) == pytest.approx(0.1 ** genome.MAX_PRESSURE)


def test_mac_relief_eases_only_the_layers_cheaper_than_the_mean_filter():
  spec = arch.ancestor_spec(10)
  pressed = genome.cluster_factors(spec, 0.88, 0.25, 32)
  relieved = genome.cluster_factors(spec, 0.88, 0.25, 32, relief=True)
  cost = arch.filter_macs(spec, 32)
  layers = list(pressed)
  mean = sum(spec[n] * cost[n] for n in layers) / sum(spec[n] for n in layers)
  for n in layers:
    if cost[n] >= mean:  # as costly as the mean filter or more: pressed exactly as before
      assert relieved[n] == pytest.approx(pressed[n]), n
    else:
      assert 0.88 < relieved[n] < 1.0 and relieved[n] == pytest.approx(
          0.88 ** ((cost[n] / mean) ** 0.25)), n
  # side 1 after the last pool: fire9's 1x1 expand filters are the cheapest, the least pressed
  assert max(relieved, key=relieved.get) == "fire9_expand1x1"


def test_a_layers_own_cluster_factor_sets_its_kept_fraction():
  w = random_weights(5)
  masks = genome.full_masks(w)
  layer_r = {n: 0.9 for n in arch.CONV_LAYERS if n != arch.HEAD}
  layer_r["fire6_expand3x3"] = 0.4
  child = genome.sample_offspring(w, masks, 1.0, layer_r, "structured",
                                  genome.generation_rng(0, 1))
  kept = {n: genome.alive_filters(child[n]).mean() for n in ("fire6_expand3x3", "fire7_expand3x3")}
  assert 0.3 < kept["fire6_expand3x3"] < 0.5  # 192 filters: the draw's std is 0.035
  assert 0.84 < kept["fire7_expand3x3"] < 0.96
  with pytest.raises(ValueError, match="r_clu"):
    genome.sample_offspring(w, masks, 1.0, {**layer_r, "conv1": 1.5}, "structured",
                            genome.generation_rng(0, 1))


def test_ranked_synthesis_kills_as_many_filters_as_the_draw_but_the_weakest_groups():
  w = random_weights(6)
  full = genome.full_masks(w)
  # a parent with dead filters: the ranking must never bring one back
  masks = genome.sample_offspring(w, full, 1.0, 0.7, "structured", genome.generation_rng(0, 0))
  drawn = genome.sample_offspring(w, masks, 1.0, 0.7, "structured", genome.generation_rng(0, 1))
  ranked = genome.sample_offspring(w, masks, 1.0, 0.7, "ranked", genome.generation_rng(0, 1))
  strength = genome.group_strengths(w, masks)
  for name in arch.CONV_LAYERS:
    alive, parent = genome.alive_filters(ranked[name]), genome.alive_filters(masks[name])
    assert alive.sum() == genome.alive_filters(drawn[name]).sum()  # the same draw's count
    assert np.array_equal(ranked[name], masks[name] & alive)  # whole filters only, hereditary
    if name != arch.HEAD and not alive[parent].all():
      assert strength[name][alive].min() >= strength[name][parent & ~alive].max()
  # structured's random choice differs from the rank somewhere: the test can tell them apart
  assert any(not np.array_equal(drawn[n], ranked[n]) for n in arch.CONV_LAYERS)

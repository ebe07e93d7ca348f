"""Hardware-friendly widths and structured synthesis: multiples that hold, heredity, exactness."""

import keras
import numpy as np
import pytest

from squish_tf.evolve import genome, masking, selection, widths
from squish_tf.evolve.loop import first_level, floor_for, milder, stalled, target_reached
from squish_tf import config
from squish_tf.errors import UserError
from squish_tf.net import arch, model


@pytest.fixture(scope="module")
def parent():
  net = model.squeezenet(image_size=32, seed=2, dropout=0.0)
  rng = np.random.default_rng(2)
  weights = {n: (k, rng.normal(0.02, 0.2, size=b.shape).astype(np.float32))
             for n, (k, b) in model.get_weights(net).items()}
  return weights, genome.full_masks(weights)


@pytest.mark.parametrize("mode,multiple,squeeze", [("budget", 8, 0), ("structured", 8, 0),
                                                   ("budget", 16, 0), ("structured", 4, 0),
                                                   ("structured", 8, 4), ("ranked", 8, 0)])
def test_rounded_widths_are_multiples_and_hereditary_and_exact(parent, mode, multiple, squeeze):
  weights, full = parent
  spec = arch.ancestor_spec(10)
  first = genome.sample_offspring(weights, full, 0.9, 0.7, mode, genome.generation_rng(4, 1))
  of = widths.multiples(multiple, squeeze)
  masks, _ = widths.round_to_multiple(spec, weights, full, first, of)  # a rounded parent
  child = genome.sample_offspring(weights, masks, 0.9, 0.7, mode, genome.generation_rng(4, 2))
  rounded, squished = widths.round_to_multiple(spec, weights, masks, child, of)
  for layer in arch.CONV_LAYERS:
    if layer != arch.HEAD:
      assert squished.spec[layer] % of[layer] == 0, (layer, squished.spec[layer])
    assert not (rounded[layer] & ~masks[layer]).any(), f"{layer}: revived a dead synapse"
  net = model.squeezenet(image_size=32, dropout=0.0)
  model.set_weights(net, weights)
  masking.apply_masks(net, rounded)
  small = model.squeezenet(squished.spec, image_size=32, dropout=0.0)
  model.set_weights(small, squished.weights)
  x = np.random.default_rng(0).random((2, 32, 32, 3)).astype(np.float32)
  logits = lambda m: keras.Model(m.input, m.get_layer("pool10").output).predict(x, verbose=0)
  np.testing.assert_allclose(logits(small), logits(net), atol=1e-4)


def test_squeeze_layers_can_round_to_a_finer_multiple(parent):
  """With --squeeze_multiple=4 a 16-filter squeeze layer left with 13 steps to 12, where
  multiples of 8 round it back to 16: only a draw leaving 12 or fewer takes it to 8."""
  assert widths.target(13, 16, 4) == 12 and widths.target(13, 16, 8) == 16
  of = widths.multiples(8, 4)
  assert of["fire2_squeeze1x1"] == 4 and of["fire2_expand3x3"] == 8 and arch.HEAD not in of
  assert set(widths.multiples(8).values()) == {8}
  weights, full = parent
  spec = arch.ancestor_spec(10)
  child = genome.sample_offspring(weights, full, 0.9, 0.7, "structured",
                                  genome.generation_rng(4, 1))
  _, fine = widths.round_to_multiple(spec, weights, full, child, of)
  _, coarse = widths.round_to_multiple(spec, weights, full, child, widths.multiples(8))
  squeezes = [n for n in of if n.endswith("squeeze1x1")]
  assert not any(coarse.spec[n] % 8 for n in squeezes)
  assert any(fine.spec[n] % 8 for n in squeezes)  # some squeeze width only a multiple of 4


def test_target_width_is_the_nearest_multiple_the_parent_allows():
  assert widths.target(13, 64, 8) == 16 and widths.target(11, 64, 8) == 8
  assert widths.target(3, 64, 8) == 8 and widths.target(12, 64, 8) == 8  # halves go down
  assert widths.target(70, 64, 8) == 64 and widths.target(5, 5, 8) == 5


def test_structured_synthesis_kills_whole_filters_only(parent):
  weights, full = parent
  child = genome.sample_offspring(weights, full, 0.5, 0.7, "structured",
                                  genome.generation_rng(1, 1))
  alive = kept = 0
  for layer in arch.CONV_LAYERS:
    if layer == arch.HEAD:
      continue
    filters = genome.alive_filters(child[layer])
    assert child[layer][..., filters].all(), f"{layer}: a synapse died inside a live filter"
    alive, kept = alive + filters.size, kept + filters.sum()
  assert 0.6 < kept / alive < 0.8  # r_clu = 0.7 of each layer's filters, in expectation


def test_coupled_group_strength_counts_the_synapses_that_read_a_filter(parent):
  weights, full = parent
  masks = {n: m.copy() for n, m in full.items()}
  masks["fire3_squeeze1x1"][:, :, 5, :] = False  # nobody in fire3's squeeze reads fire2 ch 5
  before = genome.group_strengths(weights, full)["fire2_expand1x1"]
  after = genome.group_strengths(weights, masks)["fire2_expand1x1"]
  assert after[5] < before[5] and np.allclose(np.delete(after, 5), np.delete(before, 5),
                                                rtol=0.05)


def test_tradeoff_selection_buys_the_smallest_within_tolerance():
  spec = arch.ancestor_spec(10)
  small = {**spec, "fire9_expand3x3": 128}
  results = [{"offspring": 0, "top1_val": 0.90, "spec": spec},
             {"offspring": 1, "top1_val": 0.897, "spec": small},
             {"offspring": 2, "top1_val": 0.80, "spec": {**small, "fire8_expand3x3": 8}},
             {"offspring": 3, "top1_val": -1.0, "spec": spec, "failed": "boom"}]
  size = lambda r: arch.param_count(r["spec"])
  assert selection.best(results, 0.5)["offspring"] == 0
  assert selection.best(results, 0.5, "tradeoff", 0.005, size)["offspring"] == 1
  assert selection.best(results, 0.5, "tradeoff", 0.2, size)["offspring"] == 2
  assert selection.best(results, 0.95, "tradeoff", 0.005, size) is None


def test_floors_milder_factors_and_targets():
  cfg = config.EvolveConfig(accuracy_floor=0.5, max_accuracy_drop=0.015, target_size_kb=500,
                            target_macs=2e6)
  assert floor_for(cfg, 0.90) == pytest.approx(0.885)
  assert floor_for(config.EvolveConfig(accuracy_floor=0.5, max_accuracy_drop=None), 0.90) == 0.5
  assert floor_for(config.EvolveConfig(accuracy_floor=0.5), 0.90) == pytest.approx(0.885)
  assert [milder(0.9, r) for r in range(3)] == pytest.approx([0.9, 0.95, 0.975])
  record = {"tflite_bytes": 600_000, "macs_release": 3e6, "latency_ms_p50_release_t1": 0.1}
  assert target_reached(record, cfg) is None
  assert "target_macs" in target_reached({**record, "macs_release": 1.5e6}, cfg)
  assert "target_size_kb" in target_reached({**record, "tflite_bytes": 400_000}, cfg)


def test_a_stall_is_that_many_bred_generations_with_their_predecessors_filter_counts():
  ancestor, smaller = arch.ancestor_spec(10), {**arch.ancestor_spec(10), "conv1": 56}
  bred = [{"generation": g, "spec": spec}
          for g, spec in enumerate([ancestor, smaller, smaller, smaller])]
  assert stalled(bred, config.EvolveConfig()) is None  # off by default
  assert "than generation 1" in stalled(bred, config.EvolveConfig(stall_generations=2))
  assert stalled(bred, config.EvolveConfig(stall_generations=3)) is None  # gen 1 shrank
  assert stalled(bred[:2], config.EvolveConfig(stall_generations=1)) is None
  with pytest.raises(UserError, match="--stall_generations must be >= 0"):
    config.EvolveConfig(stall_generations=-1)


def test_adaptive_first_level_reads_new_and_old_records():
  cfg = config.EvolveConfig(adaptive_factors=True)
  assert first_level(cfg, {"generation": 0}) == 0  # the ancestor was not bred
  assert first_level(cfg, {"generation": 3, "milder_level": 2, "milder_retries": 2}) == 2
  assert first_level(cfg, {"generation": 3, "milder_level": 2, "milder_retries": 0}) == 1
  # Written before milder_level existed: the first draw was level 0, so level = retries.
  assert first_level(cfg, {"generation": 3, "milder_retries": 1}) == 1
  assert first_level(cfg, {"generation": 3}) == 0
  assert first_level(config.EvolveConfig(), {"generation": 3, "milder_level": 2,
                                             "milder_retries": 2}) == 0


def test_int8_target_needs_int8_files_and_ends_the_run_at_its_size():
  with pytest.raises(ValueError, match="--target_int8_kb needs .*--int8"):
    config.EvolveConfig(target_int8_kb=100)
  cfg = config.EvolveConfig(int8=True, target_int8_kb=100)
  record = {"tflite_bytes": 600_000, "tflite_int8_bytes": 150_000}
  assert target_reached(record, cfg) is None
  assert "target_int8_kb" in target_reached({**record, "tflite_int8_bytes": 90_000}, cfg)
  assert target_reached({**record, "tflite_int8_bytes": None}, cfg) is None  # int8 refused


def test_int8_size_objective_is_the_bytes_of_the_offsprings_int8_file():
  from squish_tf.evolve import loop
  from squish_tf.export import int8
  cfg = config.EvolveConfig(image_size=32, selection="tradeoff", objective="int8_size")
  images = np.random.default_rng(0).random((4, 32, 32, 3), dtype=np.float32)
  calls = []

  def representative():
    calls.append(1)
    return images

  size = loop._size(cfg, "linear", representative)
  results = []
  for divisor in (4, 8):
    spec = {name: max(1, filters // divisor) for name, filters in arch.ancestor_spec(10).items()}
    spec[arch.HEAD] = 10
    net = model.squeezenet(spec, 10, image_size=32, seed=0)
    results.append({"spec": spec, "weights": model.get_weights(net), "net": net})
  wide, narrow = (size(r) for r in results)
  assert narrow < wide and calls
  assert narrow == len(int8.convert_int8(results[1]["net"], images))


def test_mac_pressure_draws_an_offspring_with_fewer_macs_from_the_same_stream(parent):
  """Same random stream, harsher factors only where filters cost many MACs: a subset of the
  filters before rounding, so fewer MACs at the run's image size, and the late layers alike."""
  from squish_tf.evolve import offspring
  weights, full = parent
  spec = arch.ancestor_spec(10)
  draw = lambda pressure, relief=False: offspring.draw(
      config.EvolveConfig(image_size=32, mac_pressure=pressure, mac_relief=relief), spec,
      weights, full, 1, 0).spec
  plain, pressed, relieved = draw(0.0), draw(0.5), draw(0.5, relief=True)
  assert arch.macs(pressed, 32) < 0.8 * arch.macs(plain, 32)
  assert pressed["conv1"] < plain["conv1"]
  assert pressed["fire9_expand1x1"] == plain["fire9_expand1x1"]
  # relief: the costly layers drawn as pressed, the cheap late ones keep more than r_clu
  assert relieved["conv1"] == pressed["conv1"]
  assert relieved["fire9_expand1x1"] > plain["fire9_expand1x1"]


def test_mac_relief_without_pressure_names_both_flags():
  with pytest.raises(ValueError, match="--mac_relief .* add --mac_pressure"):
    config.EvolveConfig(mac_relief=True)
  assert config.EvolveConfig(mac_relief=True, mac_pressure=0.25).mac_relief


def test_mac_pressure_out_of_range_names_the_flag():
  for bad in (-0.5, 1.5):
    with pytest.raises(ValueError, match="--mac_pressure must be in \\[0, 1\\]"):
      config.EvolveConfig(mac_pressure=bad)

"""Squish surgery: the squished dense network computes what the masked one does."""

import keras
import numpy as np
import pytest

from squish_tf.evolve import genome, masking, surgery
from squish_tf.net import arch, model

# Float32 rounding differs when zero terms are dropped from sums: outputs are
# softmax probabilities, so 1e-5 absolute is far below any decision boundary.
ATOL = 1e-5


def masked_network(seed, r_syn, r_clu, mode="budget", generations=1, image_size=32):
  net = model.squeezenet(image_size=image_size, seed=seed, dropout=0.0)
  weights = model.get_weights(net)
  masks = genome.full_masks(weights)
  for g in range(1, generations + 1):
    masks = genome.sample_offspring(weights, masks, r_syn, r_clu, mode,
                                    genome.generation_rng(seed, g))
  masking.apply_masks(net, masks)
  return net, masks


@pytest.mark.parametrize("seed,r_syn,r_clu,mode,generations", [
    (0, 0.9, 0.8, "budget", 1),
    (1, 0.5, 0.6, "budget", 2),
    (2, 0.3, 0.9, "budget", 3),   # heavy synapse loss: many filters die of it
    (3, 0.9, 0.9, "paper", 2),
    (4, 0.05, 0.3, "budget", 2),  # near-empty layers: the never-empty rule
])
def test_squished_model_predicts_what_the_masked_model_predicts(seed, r_syn, r_clu, mode,
                                                                generations):
  net, masks = masked_network(seed, r_syn, r_clu, mode, generations)
  squished = surgery.squish(model.spec_of(net), model.get_weights(net), masks)
  small = model.squeezenet(squished.spec, image_size=32, dropout=0.0)
  model.set_weights(small, squished.weights)
  x = np.random.default_rng(seed).random((4, 32, 32, 3)).astype(np.float32)
  np.testing.assert_allclose(small.predict(x, verbose=0), net.predict(x, verbose=0), atol=ATOL)
  assert small.count_params() < net.count_params()
  assert squished.spec["conv10"] == 10


def test_no_surviving_filter_or_channel_should_have_been_removed():
  net, masks = masked_network(7, 0.4, 0.7, generations=2)
  squished = surgery.squish(model.spec_of(net), model.get_weights(net), masks)
  empty = surgery.plan(squished.spec, squished.weights, squished.masks)["empty"]
  for layer in arch.CONV_LAYERS:
    m = squished.masks[layer]
    alive = genome.alive_filters(m)
    assert (alive | empty[layer]).all() or layer == "conv10", f"{layer} kept a dead filter"
    for consumer in arch.consumers(layer):
      cols = arch.input_slices(squished.spec, consumer)[layer]
      read = squished.masks[consumer][:, :, cols, :].any(axis=(0, 1, 3))
      assert (read | empty[layer]).all(), f"{layer} has a channel nobody reads"
    kernel = squished.weights[layer][0]
    assert np.all(kernel[~m] == 0)


def test_removal_goes_through_the_fire_concatenation():
  net = model.squeezenet(image_size=32, seed=1)
  weights = model.get_weights(net)
  masks = genome.full_masks(weights)
  masks["fire4_expand1x1"][..., [0, 5]] = False  # channels 0 and 5 of the fire4 concat
  masks["fire4_expand3x3"][..., [2]] = False  # channel 128 + 2
  squished = surgery.squish(model.spec_of(net), weights, masks)
  assert squished.spec["fire4_expand1x1"] == 126 and squished.spec["fire4_expand3x3"] == 127
  rows = np.delete(np.arange(256), [0, 5, 130])
  np.testing.assert_array_equal(squished.weights["fire5_squeeze1x1"][0],
                                weights["fire5_squeeze1x1"][0][:, :, rows, :])
  assert squished.spec["fire5_squeeze1x1"] == 32


def test_unread_filter_is_removed_from_its_producer():
  net = model.squeezenet(image_size=32, seed=2)
  weights = model.get_weights(net)
  masks = genome.full_masks(weights)
  masks["fire2_expand1x1"][:, :, 3, :] = False  # nobody in expand1x1 reads squeeze channel 3
  masks["fire2_expand3x3"][:, :, 3, :] = False  # nor in expand3x3
  squished = surgery.squish(model.spec_of(net), weights, masks)
  assert squished.spec["fire2_squeeze1x1"] == 15
  assert 3 not in squished.kept["fire2_squeeze1x1"]


# --- Exactness with trained-like weights, constants, and the fixed point ---------------------

LOGIT_ATOL = 1e-4


def trained_like(seed, image_size):
  """A network with He-scaled kernels and biases of both signs (as training leaves them), so
  that starved filters output non-zero constants the surgery must account for."""
  net = model.squeezenet(image_size=image_size, seed=seed, dropout=0.0)
  rng = np.random.default_rng(seed)
  weights = {n: (k, rng.normal(0.02, 0.2, size=b.shape).astype(np.float32))
             for n, (k, b) in model.get_weights(net).items()}
  model.set_weights(net, weights)
  return net, weights


def logits(net, x):
  """conv10 pooled, before the softmax: differences there are not squashed. An eager call:
  `predict` traces a function for each of the many networks built here."""
  return np.asarray(keras.Model(net.input, net.get_layer("pool10").output)(x, training=False))


def masked(weights, masks, image_size):
  net = model.squeezenet(model.spec_of_weights(weights), image_size=image_size, dropout=0.0)
  model.set_weights(net, weights)
  masking.apply_masks(net, masks)
  return net


def dense(squished, image_size):
  net = model.squeezenet(squished.spec, image_size=image_size, dropout=0.0)
  model.set_weights(net, squished.weights)
  return net


def draw(weights, seed, r_syn, r_clu, generations):
  masks = genome.full_masks(weights)
  for g in range(1, generations + 1):
    masks = genome.sample_offspring(weights, masks, r_syn, r_clu, "budget",
                                    genome.generation_rng(seed, g))
  return masks


@pytest.mark.parametrize("image_size,draws", [(64, 16), (224, 3)])
def test_squished_logits_match_the_masked_network(image_size, draws):
  """Many random genomes, mild to brutal, on weights with non-zero biases: logits agree."""
  _, weights = trained_like(11, image_size)
  rng = np.random.default_rng(image_size)
  x = rng.random((3, image_size, image_size, 3)).astype(np.float32)
  constants = 0
  for d in range(draws):
    r_syn, r_clu = rng.uniform(0.05, 0.95, size=2)
    masks = draw(weights, d, r_syn, r_clu, int(rng.integers(1, 4)))
    squished = surgery.squish(arch.validate_spec(model.spec_of_weights(weights)), weights, masks)
    status, _ = surgery.statuses(model.spec_of_weights(weights), weights, masks)
    constants += sum(int((s == surgery.CONST).sum()) for s in status.values())
    want = logits(masked(weights, masks, image_size), x)
    got = logits(dense(squished, image_size), x)
    np.testing.assert_allclose(got, want, atol=LOGIT_ATOL, err_msg=f"draw {d} {r_syn} {r_clu}")
  assert constants > 0  # the draws did produce constant filters to get right


def test_input_starved_filter_is_folded_exactly_into_a_1x1_reader():
  """fire9_expand1x1 filter 5 reads only squeeze channel 3, whose filter is dead: it outputs
  relu(bias), a constant conv10 reads through 1x1. Removing it without folding moved a
  logit by 2.0; folding its constant into conv10's bias is exact."""
  net, weights = trained_like(3, 64)
  k, b = weights["fire9_expand1x1"]
  weights["fire9_expand1x1"] = (k, b + np.where(np.arange(b.size) == 5, 2.0, 0.0).astype(b.dtype))
  masks = genome.full_masks(weights)
  masks["fire9_squeeze1x1"][..., 3] = False  # squeeze filter 3 dies
  masks["fire9_expand1x1"][:, :, :, 5] = False
  masks["fire9_expand1x1"][:, :, 3, 5] = True  # expand1x1 filter 5 reads only that channel
  status, value = surgery.statuses(model.spec_of_weights(weights), weights, masks)
  assert status["fire9_expand1x1"][5] == surgery.CONST and value["fire9_expand1x1"][5] > 1.9
  squished = surgery.squish(model.spec_of_weights(weights), weights, masks)
  assert 5 not in squished.kept["fire9_expand1x1"]  # folded away, not kept
  x = np.random.default_rng(0).random((2, 64, 64, 3)).astype(np.float32)
  np.testing.assert_allclose(logits(dense(squished, 64), x),
                             logits(masked(weights, masks, 64), x),
                             atol=LOGIT_ATOL)


def test_constant_read_through_a_3x3_kernel_is_kept():
  """A constant read by a 3x3 kernel with same padding is not constant at the borders:
  the filter producing it stays, with its input, and the result is still exact."""
  net, weights = trained_like(4, 64)
  k, b = weights["fire6_squeeze1x1"]
  weights["fire6_squeeze1x1"] = (k, np.abs(b) + 0.5)  # every squeeze filter outputs > 0
  masks = genome.full_masks(weights)
  masks["fire5_expand1x1"][..., :] = False  # fire5's output is all zero ...
  masks["fire5_expand3x3"][..., :] = False  # ... so fire6's squeeze filters are constants
  squished = surgery.squish(model.spec_of_weights(weights), weights, masks)
  status, _ = surgery.statuses(model.spec_of_weights(weights), weights, masks)
  assert (status["fire6_squeeze1x1"] == surgery.CONST).all()
  assert squished.spec["fire6_squeeze1x1"] >= 1  # read off-centre by expand3x3: kept
  x = np.random.default_rng(1).random((2, 64, 64, 3)).astype(np.float32)
  np.testing.assert_allclose(logits(dense(squished, 64), x),
                             logits(masked(weights, masks, 64), x),
                             atol=LOGIT_ATOL)


@pytest.mark.parametrize("seed", range(12))
def test_squishing_a_squished_network_changes_nothing(seed):
  _, weights = trained_like(20 + seed, 32)
  rng = np.random.default_rng(seed)
  masks = draw(weights, seed, *rng.uniform(0.03, 0.9, size=2), int(rng.integers(1, 4)))
  once = surgery.squish(model.spec_of_weights(weights), weights, masks)
  twice = surgery.squish(once.spec, once.weights, once.masks)
  assert twice.spec == once.spec
  for layer in arch.CONV_LAYERS:
    np.testing.assert_array_equal(twice.masks[layer], once.masks[layer], err_msg=layer)
    np.testing.assert_array_equal(twice.weights[layer][0], once.weights[layer][0], err_msg=layer)
    np.testing.assert_array_equal(twice.weights[layer][1], once.weights[layer][1], err_msg=layer)


def test_an_emptied_layer_keeps_one_silent_placeholder_and_stays_fixed():
  _, weights = trained_like(5, 32)
  masks = genome.full_masks(weights)
  masks["fire7_expand1x1"][:] = False
  masks["fire7_expand3x3"][:] = False  # fire7 outputs nothing: everything after is constant
  once = surgery.squish(model.spec_of_weights(weights), weights, masks)
  assert once.spec["fire7_expand1x1"] == once.spec["fire7_expand3x3"] == 1
  assert not once.masks["fire7_expand1x1"].any()  # silent: reads nothing, outputs 0
  twice = surgery.squish(once.spec, once.weights, once.masks)
  assert twice.spec == once.spec
  assert surgery.classes_without_live_input(once) == list(range(10))

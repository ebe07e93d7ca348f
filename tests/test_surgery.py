"""Squish surgery: the squished dense network computes what the masked one does."""

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
  for layer in arch.CONV_LAYERS:
    m = squished.masks[layer]
    assert genome.alive_filters(m).all() or layer == "conv10", f"{layer} kept a dead filter"
    for consumer in arch.consumers(layer):
      cols = surgery._input_slices(squished.spec, consumer)[layer]
      read = squished.masks[consumer][:, :, cols, :].any(axis=(0, 1, 3))
      assert read.all(), f"{layer} has a channel nobody reads"
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

import numpy as np

from squish_tf import data, train
from squish_tf.evolve import genome, masking
from squish_tf.net import arch, model


def test_masked_weights_stay_exactly_zero_through_fit():
  splits = data.load("digits", image_size=32, seed=0)
  net = model.squeezenet(image_size=32, seed=0)
  weights = model.get_weights(net)
  masks = genome.sample_offspring(weights, genome.full_masks(weights), 0.6, 0.8, "budget",
                                  genome.generation_rng(0, 1))
  masking.apply_masks(net, masks)
  before = model.get_weights(net)
  train.fit(net, splits, epochs=1, batch_size=64, learning_rate=1e-3, seed=0, verbose=0)
  after = model.get_weights(net)
  moved = 0
  for name in arch.CONV_LAYERS:
    kernel, bias = after[name]
    assert np.all(kernel[~masks[name]] == 0.0), name
    assert np.all(bias[~genome.alive_filters(masks[name])] == 0.0), name
    moved += np.count_nonzero(kernel[masks[name]] != before[name][0][masks[name]])
  assert moved > 0  # the alive synapses did train
  masking.strip_masks(net)
  assert net.get_layer("conv1").kernel.constraint is None

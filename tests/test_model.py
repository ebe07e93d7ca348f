import numpy as np
import pytest

from squish_tf.net import arch, model


def test_ten_class_parameter_count_matches_hand_count():
  # Derived by hand from the table in docs/evolutionary-synthesis.md, weights + biases:
  # conv1 3*3*3*64+64 = 1,792
  # fire2 (in 64):  squeeze 64*16+16=1,040   e1 16*64+64=1,088  e3 9*16*64+64=9,280  -> 11,408
  # fire3 (in 128): 128*16+16=2,064 + 1,088 + 9,280                                   -> 12,432
  # fire4 (in 128): 128*32+32=4,128 + e1 32*128+128=4,224 + e3 9*32*128+128=36,992    -> 45,344
  # fire5 (in 256): 256*32+32=8,224 + 4,224 + 36,992                                  -> 49,440
  # fire6 (in 256): 256*48+48=12,336 + e1 48*192+192=9,408 + e3 9*48*192+192=83,136   -> 104,880
  # fire7 (in 384): 384*48+48=18,480 + 9,408 + 83,136                                 -> 111,024
  # fire8 (in 384): 384*64+64=24,640 + e1 64*256+256=16,640 + e3 9*64*256+256=147,712 -> 188,992
  # fire9 (in 512): 512*64+64=32,832 + 16,640 + 147,712                               -> 197,184
  # conv10 512*10+10 = 5,130.  Sum: 727,626.
  net = model.squeezenet(num_classes=10, image_size=64)
  assert net.count_params() == 727_626
  assert arch.param_count(arch.ancestor_spec(10)) == 727_626


def test_layer_names_are_stable_and_shapes_follow_the_table():
  net = model.squeezenet(num_classes=7, image_size=96)
  names = {layer.name for layer in net.layers}
  for expected in ("conv1", "pool1", "fire2_squeeze1x1", "fire2_expand1x1", "fire2_expand3x3",
                   "fire2_concat", "pool3", "pool5", "fire9_expand3x3", "drop9", "conv10",
                   "pool10"):
    assert expected in names
  assert net.output_shape == (None, 7)
  assert net.get_layer("fire4_concat").output.shape[-1] == 256
  assert net.get_layer("conv1").output.shape[1] == arch.output_sizes(96)["conv1"]
  assert net.get_layer("conv10").output.shape[1] == arch.output_sizes(96)["conv10"]


@pytest.mark.parametrize("size", [32, 64, 227])
def test_any_input_size_from_32(size):
  net = model.squeezenet(image_size=size)
  out = net.predict(np.zeros((2, size, size, 3), np.float32), verbose=0)
  np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_too_small_input_and_bad_spec_are_rejected():
  with pytest.raises(ValueError, match="at least 32"):
    model.squeezenet(image_size=31)
  spec = arch.ancestor_spec(10)
  spec["fire3_expand1x1"] = 0
  with pytest.raises(ValueError, match="positive integer"):
    model.squeezenet(spec)
  with pytest.raises(ValueError, match="num_classes"):
    model.squeezenet(arch.ancestor_spec(10), num_classes=5)


def test_spec_rebuild_gives_the_spec_and_its_parameter_count():
  spec = arch.ancestor_spec(10)
  spec.update({"conv1": 40, "fire2_squeeze1x1": 9, "fire5_expand3x3": 77, "fire9_expand1x1": 31})
  net = model.squeezenet(spec, image_size=48)
  assert model.spec_of(net) == spec
  assert net.count_params() == arch.param_count(spec)


def test_rebuild_at_another_size_keeps_weights_and_function():
  net = model.squeezenet(image_size=64, seed=3)
  big = model.rebuild(net, 128)
  x = np.random.default_rng(0).random((2, 64, 64, 3)).astype(np.float32)
  np.testing.assert_allclose(model.rebuild(big, 64).predict(x, verbose=0),
                             net.predict(x, verbose=0), atol=1e-6)
  assert big.input_shape == (None, 128, 128, 3)


def test_same_seed_builds_same_weights():
  a = model.get_weights(model.squeezenet(image_size=32, seed=5))
  b = model.get_weights(model.squeezenet(image_size=32, seed=5))
  for name in arch.CONV_LAYERS:
    np.testing.assert_array_equal(a[name][0], b[name][0])


@pytest.mark.parametrize("seed", [10, 1_000_000, 2**32 - 1])
def test_any_seed_builds_and_the_same_seed_builds_the_same(seed):
  a = model.get_weights(model.squeezenet(image_size=32, seed=seed))
  b = model.get_weights(model.squeezenet(image_size=32, seed=seed))
  np.testing.assert_array_equal(a["fire9_expand3x3"][0], b["fire9_expand3x3"][0])


def test_layer_seeds_are_distinct_within_and_across_nearby_seeds():
  seeds = [v for s in range(50) for v in model.layer_seeds(s).values()]
  assert len(set(seeds)) == len(seeds)
  assert all(0 <= v < 2**31 for v in seeds)
  assert set(model.layer_seeds(None).values()) == {None}


def test_derived_model_seeds_never_collide():
  from squish_tf.evolve.offspring import model_seed
  grid = [(s, g, k) for s in range(12) for g in range(16) for k in range(5)]
  assert len({model_seed(*key) for key in grid}) == len(grid)
  assert model_seed(2**32 - 1, 15, 4) >= 0


def test_inert_taps_are_the_3x3_layers_at_1x1_and_only_there():
  assert arch.inert_taps(32) == tuple(f"fire{i}_expand3x3" for i in (6, 7, 8, 9))
  assert arch.inert_taps(46) == arch.inert_taps(32)
  assert arch.inert_taps(47) == () and arch.inert_taps(64) == ()
  # fire6-9 expand3x3 of the ancestor: 8 of 9 taps of 48*192*2 + 64*256*2 filters' kernels
  assert arch.inert_params(arch.ancestor_spec(10), 32) == 8 * (48 * 192 * 2 + 64 * 256 * 2)


def test_folded_network_keeps_the_function_without_the_inert_taps():
  net = model.squeezenet(image_size=32, seed=1)
  weights = model.get_weights(net)
  rng = np.random.default_rng(0)
  for name in arch.inert_taps(32):  # as training leaves them: never updated, never read
    kernel, bias = weights[name]
    noise = rng.normal(0.0, 5.0, kernel.shape).astype(np.float32)
    noise[1, 1] = kernel[1, 1]
    net.get_layer(name).set_weights([noise, bias])
  small = model.folded(net)
  spec = model.spec_of(net)
  assert small.count_params() == arch.param_count(spec) - arch.inert_params(spec, 32)
  assert model.spec_of(small) == spec and small.get_layer("fire9_expand3x3").kernel_size == (1, 1)
  x = rng.random((4, 32, 32, 3)).astype(np.float32)
  np.testing.assert_allclose(small.predict(x, verbose=0), net.predict(x, verbose=0), atol=1e-6)
  assert model.folded(small) is small and not model.foldable(small)


def test_nothing_is_folded_where_every_tap_reads_pixels():
  net = model.squeezenet(image_size=64)
  assert not model.foldable(net) and model.folded(net) is net
  with pytest.raises(ValueError, match="fixed input size"):
    model.folded(model.squeezenet(image_size=None))


def test_inert_taps_start_at_zero_and_training_leaves_them_there():
  from squish_tf import data, train
  net = model.squeezenet(image_size=32, seed=2)
  splits = data.load("digits", image_size=32, seed=0)
  train.fit(net, splits, epochs=1, batch_size=64, learning_rate=1e-3, seed=0, verbose=0)
  for name in arch.inert_taps(32):
    kernel = net.get_layer(name).get_weights()[0].copy()
    assert np.all(kernel[1, 1] != 0.0)
    kernel[1, 1] = 0.0
    assert not kernel.any(), name
  assert model.get_weights(model.squeezenet(image_size=64, seed=2))["fire9_expand3x3"][0][0, 0].any()

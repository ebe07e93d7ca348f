"""The baselines of benchmarks/pareto.py at toy size: peers.py's algorithms, and the pieces
pareto.py trains from them that its own toy run (test_benchmarks.py) leaves out."""

import functools
import os
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from squish_tf import config
from squish_tf.evolve import genome, masking
from squish_tf.net import arch, model

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import pareto  # noqa: E402
import peers  # noqa: E402


def test_keras_macs_counts_what_arch_counts():
  for spec in (arch.ancestor_spec(10), peers.width_spec(0.3, 10)):
    for size in (32, 64):
      assert peers.keras_macs(model.squeezenet(spec, image_size=size)) == arch.macs(spec, size)
  # Howard et al. 2019, Table 3: MobileNetV3-Small, 56 M multiply-adds at 224x224.
  macs = peers.keras_macs(peers.mobilenet_v3_small(224, 1000))
  assert abs(macs - 56e6) / 56e6 < 0.02


def test_closest_finds_the_nearest_step_either_way():
  assert int(10 * peers.closest(lambda x: int(10 * x), 3.4, 0.0, 1.0)) == 3
  x = peers.closest(lambda x: 10 - int(10 * x), 6.6, 0.0, 1.0)
  assert 10 - int(10 * x) == 7


def test_matched_width_scales_every_layer_but_the_head():
  target = 200_000
  spec, alpha = peers.matched_width(target, 10)
  assert spec == peers.width_spec(alpha, 10) and spec[arch.HEAD] == 10
  assert abs(arch.param_count(spec) - target) / target < 0.01
  assert spec["fire9_expand3x3"] == round(256 * alpha)
  assert peers.width_spec(1.0, 10) == arch.ancestor_spec(10)


def test_l1_pruning_removes_the_weakest_filters_through_surgery():
  net = model.squeezenet(image_size=32, seed=0)
  weights = model.get_weights(net)
  for name, (kernel, bias) in weights.items():  # non-zero biases: surgery must carry them
    weights[name] = (kernel, np.full_like(bias, 0.01))
  full = genome.full_masks(weights)
  target = 300_000
  squished, fraction = peers.l1_prune_to(arch.ancestor_spec(10), weights, full, target)
  assert abs(arch.param_count(squished.spec) - target) / target < 0.02
  norms = np.abs(weights["conv1"][0]).sum(axis=(0, 1, 2))
  strongest = np.sort(np.argsort(norms)[-squished.spec["conv1"]:])
  np.testing.assert_array_equal(squished.kept["conv1"], strongest)
  assert squished.spec[arch.HEAD] == 10 and 0 < fraction < 1
  # The squished network computes what the ancestor with the dead filters masked computes.
  masked = model.squeezenet(image_size=32, seed=0)
  model.set_weights(masked, weights)
  masking.apply_masks(masked, peers.l1_dead_masks(weights, full, fraction))
  small = model.squeezenet(squished.spec, image_size=32)
  model.set_weights(small, squished.weights)
  images = np.random.default_rng(0).random((4, 32, 32, 3), dtype=np.float32)
  np.testing.assert_allclose(small(images), masked(images), atol=1e-5)


def test_pruning_in_steps_keeps_what_iterative_pruning_keeps():
  """Pruned in many small steps, a 16-filter squeeze layer loses round(f * 16) = 0 or 1
  filters a step and keeps more than one step to the same size leaves it; the latency
  search (pareto.latency_matched_target) must time these counts, not one step's."""
  weights = model.get_weights(model.squeezenet(image_size=32, seed=0))
  full, spec = genome.full_masks(weights), arch.ancestor_spec(10)
  targets = peers.iterative_targets(arch.param_count(spec), 100_000, 20)
  steps = peers.l1_prune_in_steps(spec, weights, full, targets)
  one, _ = peers.l1_prune_to(spec, weights, full, 100_000)
  assert abs(arch.param_count(steps.spec) - 100_000) / 100_000 < 0.02
  assert steps.spec["fire2_squeeze1x1"] > one.spec["fire2_squeeze1x1"]
  assert arch.macs(steps.spec, 32) > arch.macs(one.spec, 32)


def test_iterative_targets_shrink_by_the_same_ratio_to_the_end():
  assert peers.iterative_targets(1000, 100, 2) == [316, 100]
  assert peers.iterative_targets(1000, 500, 1) == [500]


def test_mobilenet_variants_build_at_32_and_recalibrate_their_batch_norms():
  images = np.random.default_rng(0).random((16, 32, 32, 3), dtype=np.float32)
  train = tf.data.Dataset.from_tensor_slices((images, np.zeros(16)))
  for variant, (alpha, minimalistic) in peers.MOBILENET_VARIANTS.items():
    net = peers.mobilenet_v3_small(32, 10, alpha, minimalistic)
    assert net.output_shape == (None, 10), variant
  norms = [layer for layer in net.layers if isinstance(layer, keras.layers.BatchNormalization)]
  assert {layer.momentum for layer in norms} == {peers.BN_MOMENTUM}
  before = norms[0].moving_mean.numpy().copy()
  peers.recalibrate_batch_norm(net, train, 8)
  assert not np.allclose(norms[0].moving_mean.numpy(), before)
  assert {layer.momentum for layer in norms} == {peers.BN_MOMENTUM}


def toy_plan(**changes) -> pareto.Plan:
  fields = {"dataset": "digits", "image_size": 32, "seeds": (0,), "methods": pareto.METHODS,
            "overrides": {}, "tag": "default", "mobilenet": ("minimalistic",), "max_drop": 0.02,
            "max_models": 2, "match": "all", "bench_seconds": 0.05, "bench_rounds": 1,
            "quick": False, "workdir": "", "results_dir": "", "command": ""}
  return pareto.Plan(**{**fields, **changes})


def toy_run(tmp_path, records, named, **cfg) -> pareto.SeedRun:
  cfg = config.EvolveConfig(dataset="digits", image_size=32, bench_image_size=32, int8=True,
                            **cfg)
  return pareto.SeedRun(0, cfg, str(tmp_path), records, named, pareto.budgets(cfg, records))


def fake_records():
  """An ancestor and 3 generations; generation 2 needed one retry with milder factors."""
  params = (727_626, 400_000, 250_000, 150_000)
  return [{"generation": g, "params_total": p, "params_alive": p - 1000 * g,
           "spec": peers.matched_width(p, 10)[0], "population": 2,
           "milder_retries": int(g == 2)} for g, p in enumerate(params)]


def test_pieces_are_matched_to_the_evolutions_budget(tmp_path):
  records = fake_records()
  named = [{"name": "SquishedNet-1", "generation": 1}, {"name": "SquishedNet-2", "generation": 3}]
  run = toy_run(tmp_path, records, named, epochs=4, finetune_epochs=2, population=2)
  assert run.matched() == [(2, 3)]  # by default, only the smallest SquishedNet
  run.match = "all"
  # 4 epochs of ancestor; then 2 offspring x 2 epochs a generation, twice that for a retry.
  assert run.budgets == {0: 4, 1: 8, 2: 16, 3: 20}
  # A run that records its offspring's epochs (recovery epochs included) is counted as recorded.
  records[3]["offspring_epochs"] = 7
  assert pareto.budgets(run.cfg, records)[3] == 23
  plan = toy_plan()
  pieces = {m: [(k, matched) for k, _, matched, _ in pareto.PIECES[m](run, plan)]
            for m in pareto.PIECES}
  assert pieces["scratch"] == [(1, {"generation": 1, "spec": records[1]["spec"], "epochs": 8}),
                               (2, {"generation": 3, "spec": records[3]["spec"],
                                        "epochs": 20})]
  assert [m["params_target"] for _, m in pieces["width"]] == [400_000, 150_000]
  assert [m["epochs"] for _, m in pieces["l1_oneshot"]] == [4, 16]
  _, iterative = pieces["l1_iterative"][1]
  assert iterative["epochs"] == [4, 8, 4] and iterative["params_targets"][-1] == 150_000
  # matched to the same SquishedNet's latency instead, with the same budget
  # searched from a quarter to twice its parameters, never above the ancestor's
  assert pieces["l1_latency"][1] == (2, {"generation": 3, "latency_of": "evolution gen 3",
                                         "epochs": [4, 8, 4], "params_range": [37_500, 300_000]})
  assert pieces["l1_latency"][0][1]["params_range"] == [100_000, 727_626]
  [(k, tfmot)] = pieces["tfmot"]  # the smallest SquishedNet only
  assert k == 2 and tfmot["epochs"] == 16 and len(tfmot["sparsities"]) == 3
  assert tfmot["sparsities"][-1] == round(1 - 147_000 / 727_626, 5)
  assert pieces["mobilenet"] == [("minimalistic", {"variant": "minimalistic", "epochs": 4})]


def test_pruned_baselines_distil_from_what_they_were_pruned_from_when_the_evolution_does(
    tmp_path, monkeypatch):
  """Offspring distil from their parent with --distill; so each step of iterative L1 distils
  from the network of the step before (one-shot L1 from the ancestor), but not the step
  matched to the polish, which does not distil; their matched settings record it. Networks
  trained from scratch have no parent and never distil."""
  from squish_tf import train
  calls = []
  monkeypatch.setattr(train, "fit", lambda net, *args, **kwargs: calls.append((net, kwargs)))
  spec = arch.ancestor_spec(10)
  records = [{"generation": 0, "params_total": arch.param_count(spec), "spec": spec},
             {"generation": 1, "params_total": 500_000, "spec": spec, "population": 1},
             {"generation": 2, "params_total": 400_000, "spec": spec, "population": 1},
             {"generation": 3, "params_total": 400_000, "spec": spec, "population": 1,
              "polish": True}]
  named = [{"name": "SquishedNet-1", "generation": 3}]
  run = toy_run(tmp_path, records, named, epochs=1, finetune_epochs=1, distill=0.5)
  run.__dict__["ancestor"] = model.squeezenet(image_size=32, seed=0)  # untrained will do
  run.__dict__["data"] = {"splits": None}
  monkeypatch.setattr(pareto, "save_keras", lambda net, directory, run: {})
  assert pareto.distilled_steps(run, 3) == [True, True, False]
  pareto.l1_iterative_piece(str(tmp_path), run, [500_000, 400_000, 400_000], [1, 1, 1], seed=1,
                            distilled=[True, True, False])
  (first, step1), (_, step2), (_, step3) = calls
  assert step1["teacher"] is run.ancestor and step2["teacher"] is first
  assert step1["distill"] == step2["distill"] == 0.5 and step2["temperature"] == 2.0
  assert "teacher" not in step3  # the polish's step
  calls.clear()
  pareto._l1_oneshot(str(tmp_path), run, target=300_000, epochs=1, seed=1)
  pareto.squeezenet_piece(str(tmp_path), run, spec, epochs=1, seed=1)  # from scratch
  assert calls[0][1]["teacher"] is run.ancestor and "teacher" not in calls[1][1]
  plan = toy_plan()
  for method in ("l1_oneshot", "l1_iterative", "l1_latency", "scratch", "width"):
    [(_, _, matched, _)] = list(pareto.PIECES[method](run, plan))
    assert ("distill" in matched) == method.startswith("l1"), method
    if method in ("l1_iterative", "l1_latency"):
      assert matched["distilled_steps"] == [True, True, False]
  # without --distill nobody distils, and the matched settings are those of older runs
  run = toy_run(tmp_path, records, named, epochs=1, finetune_epochs=1)
  run.__dict__.update(ancestor=model.squeezenet(image_size=32), data={"splits": None})
  calls.clear()
  pareto._l1_oneshot(str(tmp_path), run, target=300_000, epochs=1, seed=1)
  assert "teacher" not in calls[0][1]
  [(_, _, matched, _)] = list(pareto.PIECES["l1_iterative"](run, plan))
  assert set(matched) == {"generation", "params_targets", "epochs"}


def test_overrides_are_typed_like_the_defaults():
  got = pareto.parse_overrides(["generations=4", "r_clu=0.9", "max_accuracy_drop=0.01",
                                "int8=false", "synthesis=paper", "target_size_kb=none"])
  assert got == {"generations": 4, "r_clu": 0.9, "max_accuracy_drop": 0.01, "int8": False,
                 "synthesis": "paper", "target_size_kb": None}
  with pytest.raises(ValueError, match="EvolveConfig field"):
    pareto.parse_overrides(["no_such_field=1"])
  with pytest.raises(ValueError, match="fixes them"):
    pareto.evolve_config(toy_plan(overrides={"seed": 3}), 0)


def test_quick_evolution_has_no_floor_for_its_barely_trained_ancestor():
  """--quick's 3-epoch ancestor is far from trained; any floor (the relative one is on by
  default) stops the run at generation 0 and leaves no SquishedNet to match baselines to."""
  from squish_tf.evolve.loop import floor_for
  cfg = pareto.evolve_config(toy_plan(overrides=pareto.QUICK_EVOLVE, quick=True), 0)
  assert floor_for(cfg, ancestor_top1=1.0) <= 0.0
  assert floor_for(pareto.evolve_config(toy_plan(), 0), ancestor_top1=0.8) > 0.7


def test_l1_latency_piece_is_pruned_to_a_timed_target(tmp_path, monkeypatch):
  """The L1 baseline matched to a SquishedNet's latency: its parameter target is found by
  timing candidate files beside the SquishedNet's, then reached in one step per generation.
  The SquishedNet here is the ancestor L1-pruned to 300 k parameters (what is timed, not how
  fast, is asserted: timings vary with the machine)."""
  from squish_tf.export import litert
  # the search's shape, not its precision: 4 candidates (each a conversion), briefly timed
  monkeypatch.setattr(pareto, "MATCH_SECONDS", 0.1)
  monkeypatch.setattr(pareto, "MATCH_ITERATIONS", 2)
  spec = arch.ancestor_spec(10)
  records = [{"generation": 0, "params_total": arch.param_count(spec), "spec": spec},
             {"generation": 1, "params_total": 300_000, "spec": spec, "population": 1}]
  run = toy_run(tmp_path, records, [{"name": "SquishedNet-1", "generation": 1}], epochs=1,
                finetune_epochs=1)
  run.__dict__["ancestor"] = model.squeezenet(image_size=32, seed=0)  # untrained will do
  weights = model.get_weights(run.ancestor)
  squished, _ = peers.l1_prune_to(spec, weights, genome.full_masks(weights), 300_000)
  reference = model.squeezenet(squished.spec, image_size=32)
  os.makedirs(tmp_path / "evolution" / "gen_001")
  with open(tmp_path / "evolution" / "gen_001" / "model.tflite", "wb") as f:
    f.write(litert.to_tflite(reference))
  [(k, gen, matched, make)] = list(pareto.l1_latency_pieces(run, toy_plan()))
  assert (k, gen, matched["epochs"]) == (1, 1, [1])
  directory = str(tmp_path / "l1_latency_1")
  figures = pareto.piece(directory, matched, make, create=True)
  match = figures["latency_match"]
  timed = {int(t): r for t, r in match["timed"].items()}
  # the range, a quarter to twice the SquishedNet's parameters, ends where it was searched
  assert matched["params_range"] == [75_000, 600_000]
  assert len(timed) >= 3 and min(timed) == 75_000 and max(timed) == 600_000
  assert match["params_target"] in timed and match["latency_ratio"] == timed[
      match["params_target"]] == min(timed.values(), key=lambda r: abs(r - 1.0))
  assert abs(figures["params_total"] - match["params_target"]) / match["params_target"] < 0.03
  assert len(figures["steps"]) == 1 and figures["epochs"] == 1
  assert "model.tflite" in os.listdir(directory)
  assert "candidate.tflite" not in os.listdir(directory)


def test_width_latency_piece_is_the_width_timed_to_run_as_fast(tmp_path, monkeypatch):
  """Uniform width matched to a SquishedNet's latency: alpha found by timing candidate widths
  beside the SquishedNet's file, from half the size-matched width to the ancestor's, then
  trained as `width` is. The SquishedNet here is SqueezeNet at width 0.5 (what is timed, not
  how fast, is asserted: timings vary with the machine)."""
  from squish_tf.export import litert
  monkeypatch.setattr(pareto, "MATCH_SECONDS", 0.1)
  monkeypatch.setattr(pareto, "MATCH_ITERATIONS", 2)
  spec = arch.ancestor_spec(10)
  half = peers.width_spec(0.5, 10)
  records = [{"generation": 0, "params_total": arch.param_count(spec), "spec": spec},
             {"generation": 1, "params_total": arch.param_count(half), "spec": half,
              "population": 1}]
  run = toy_run(tmp_path, records, [{"name": "SquishedNet-1", "generation": 1}], epochs=1,
                finetune_epochs=1)
  run.__dict__["ancestor"] = model.squeezenet(image_size=32, seed=0)  # its head's activation
  os.makedirs(tmp_path / "evolution" / "gen_001")
  with open(tmp_path / "evolution" / "gen_001" / "model.tflite", "wb") as f:
    f.write(litert.to_tflite(model.squeezenet(half, image_size=32)))
  [(k, gen, matched, make)] = list(pareto.width_latency_pieces(run, toy_plan()))
  _, alpha = peers.matched_width(arch.param_count(half), 10)
  assert (k, gen, matched["epochs"]) == (1, 1, 2)  # the budget `width` trains
  assert matched["alpha_range"] == [round(alpha / 2, 4), 1.0]
  directory = str(tmp_path / "width_latency_1")
  figures = pareto.piece(directory, matched, make, create=True)
  match = figures["latency_match"]
  timed = {float(a): r for a, r in match["timed"].items()}
  assert len(timed) >= 3 and min(timed) == round(alpha / 2, 4) and max(timed) == 1.0
  assert figures["alpha"] == match["alpha"] and match["latency_ratio"] == timed[
      match["alpha"]] == min(timed.values(), key=lambda r: abs(r - 1.0))
  assert figures["spec"] == peers.width_spec(match["alpha"], 10)
  assert figures["epochs"] == 2 and 0 <= figures["top1_test"] <= 1
  assert "model.tflite" in os.listdir(directory)
  assert "candidate.tflite" not in os.listdir(directory)


def test_l1_oneshot_and_mobilenet_pieces_end_to_end_and_reused(tmp_path):
  spec = arch.ancestor_spec(10)
  records = [{"generation": 0, "params_total": arch.param_count(spec), "spec": spec}]
  run = toy_run(tmp_path, records, [], epochs=1, finetune_epochs=1)
  run.__dict__["ancestor"] = model.squeezenet(image_size=32, seed=0)  # untrained will do
  matched = {"generation": 0, "params_target": 300_000, "epochs": 1}
  make = functools.partial(pareto._l1_oneshot, run=run, target=300_000, epochs=1, seed=1)
  directory = str(tmp_path / "l1_oneshot_1")
  figures = pareto.piece(directory, matched, make, create=True)
  assert abs(figures["params_total"] - 300_000) / 300_000 < 0.02
  assert figures["macs"] == arch.macs(figures["spec"], 32) and 0 <= figures["top1_test"] <= 1
  assert os.path.isfile(os.path.join(directory, "model.tflite"))

  def fail(_):
    raise AssertionError("a finished piece is made again")

  assert pareto.piece(directory, matched, fail, create=True) == figures
  assert pareto.piece(directory, {**matched, "epochs": 2}, fail, create=False) is None

  directory = str(tmp_path / "mobilenet_minimalistic")
  os.makedirs(directory)
  figures = pareto.mobilenet_piece(directory, run, "minimalistic", seed=2)
  assert figures["macs"] == 1_634_240 and figures["epochs"] == 1  # counted at 32x32
  assert figures["params_total"] > 1e6 and 0 <= figures["top1_val"] <= 1
  assert (figures["int8_bytes"] is None) == (figures["int8_refused"] is not None)


def test_tfmot_piece_prunes_the_ancestor_in_a_legacy_keras_process(tmp_path):
  """tfmot's baseline end to end (test_benchmarks' toy pareto run leaves it out): the
  worker prunes a small stand-in ancestor to the sparsity asked; of the float32 files it
  writes, the piece keeps the one at the training size."""
  spec = {k: max(8, v // 8) for k, v in arch.ancestor_spec(10).items()} | {arch.HEAD: 10}
  records = [{"generation": 0, "params_total": arch.param_count(spec), "spec": spec}]
  run = toy_run(tmp_path, records, [], epochs=1, finetune_epochs=1)
  run.__dict__["ancestor"] = model.squeezenet(spec, image_size=32, seed=0)
  directory = str(tmp_path / "tfmot_1")
  figures = pareto.tfmot_piece(directory, run, [0.5], epochs=1)
  assert figures["params_total"] == arch.param_count(spec) and figures["spec"] == spec
  assert figures["macs"] == arch.macs(spec, 32)
  assert 0.4 < figures["kernel_sparsity"] < 0.6  # dense weights, about half of them zero
  assert figures["params_nonzero"] < figures["params_total"]
  # the dense file's zeros are what gzip takes out: that is the size pareto.py counts
  assert figures["float_gzip_bytes"] < 0.8 * figures["float_bytes"]
  assert figures["int8_bytes"] is None and figures["int8_refused"].startswith("not measured")
  assert os.listdir(directory) == ["model.tflite"] and 0 <= figures["top1_test"] <= 1
  point = {"method": "tfmot", **figures}
  assert pareto.counted_size(point) == figures["float_gzip_bytes"]
  assert pareto.counted_size({**point, "method": "l1_iterative"}) == figures["float_bytes"]

"""The generations loop: draw, squish, fine-tune, select, convert, measure, save.

A run directory holds everything, and nothing else is needed to resume or report:
  config.json            the EvolveConfig of the run
  gen_NNN/               one finished generation (NNN = 000 is the ancestor):
    model.keras          the squished dense network, trained (no constraints)
    masks.npz            its genome (boolean kernel masks by layer)
    spec.json            filters per conv layer
    model.tflite(.json)  float32 TFLite, verified against Keras (figures beside it)
    metrics.json         this generation's metrics line
  metrics.jsonl          one line per finished generation, rebuilt from gen_*/metrics.json
  state.json             whether the run stopped early, and why
A generation is written to gen_NNN.partial/ and renamed when complete, so a run
killed at any moment loses at most the generation in progress.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from squish_tf import arch, bench, config as config_lib, data, distribute, files, genome
from squish_tf import litert
from squish_tf import masking, model as model_lib, surgery, train
from squish_tf.errors import UserError

# Settings a resumed run may change without changing what the run computes.
RESUMABLE_CHANGES = ("generations", "threads", "strategy")
VERIFY_IMAGES = 64
BENCH_SECONDS = 0.5  # per batch size and generation; benchmarks/ measures longer, side by side


def gen_dir(workdir: str, generation: int) -> str:
  return os.path.join(workdir, f"gen_{generation:03d}")


def finished_generations(workdir: str) -> list[int]:
  found = []
  for path in glob.glob(os.path.join(workdir, "gen_[0-9][0-9][0-9]", "metrics.json")):
    found.append(int(os.path.basename(os.path.dirname(path))[4:]))
  return sorted(found)


def load_records(workdir: str) -> list[dict]:
  return [files.read_json(os.path.join(gen_dir(workdir, g), "metrics.json"))
          for g in finished_generations(workdir)]


def _start(cfg: config_lib.EvolveConfig, workdir: str, resume: bool) -> None:
  """Writes config.json for a new run, or checks that a resumed run keeps it."""
  files.ensure_writable_dir(workdir)
  path = os.path.join(workdir, "config.json")
  if not resume:
    if os.path.exists(path):
      raise UserError(f"{workdir} already holds a run; pass --resume to continue it, or "
                      f"choose a new --workdir")
    files.write_json(path, config_lib.to_dict(cfg))
    return
  if not os.path.exists(path):
    raise UserError(f"--resume: {workdir} holds no run to resume (no config.json); "
                    f"drop --resume to start one")
  saved, now = files.read_json(path), config_lib.to_dict(cfg)
  # A key an older squish_tf did not write held its default then.
  saved = {**config_lib.to_dict(config_lib.EvolveConfig()), **saved}
  diff = sorted(k for k in set(saved) | set(now)
                if saved.get(k) != now.get(k) and k not in RESUMABLE_CHANGES)
  if diff:
    shown = ", ".join(f"{k}={saved.get(k)!r} (now {now.get(k)!r})" for k in diff)
    raise UserError(f"--resume with a different configuration: {shown}; rerun with the "
                    f"saved values or start a new --workdir")
  files.write_json(path, now)  # records a changed --generations
  for partial in glob.glob(os.path.join(workdir, "gen_*.partial")):
    shutil.rmtree(partial)  # a generation that was in progress when the run died


class _Clock:
  """Accumulates seconds per phase, for the report's time split."""

  def __init__(self):
    self.seconds = {}

  def time(self, phase):
    clock = self

    class _Phase:
      def __enter__(self):
        self.start = time.perf_counter()

      def __exit__(self, *exc):
        clock.seconds[phase] = clock.seconds.get(phase, 0.0) + time.perf_counter() - self.start
    return _Phase()


def _model_seed(seed: int, generation: int, offspring: int) -> int:
  return (seed * 1_000 + generation) * 100 + offspring


def _save_generation(workdir: str, generation: int, net, masks: dict, record_base: dict,
                     splits, test, cfg, clock: _Clock) -> dict:
  """Converts, evaluates, benchmarks and writes one generation; returns its metrics line."""
  partial = gen_dir(workdir, generation) + ".partial"
  shutil.rmtree(partial, ignore_errors=True)
  os.makedirs(partial)
  spec = model_lib.spec_of(net)
  net.save(os.path.join(partial, "model.keras"))
  np.savez_compressed(os.path.join(partial, "masks.npz"), **masks)
  files.write_json(os.path.join(partial, "spec.json"), spec)
  tflite_path = os.path.join(partial, "model.tflite")
  with clock.time("convert"):
    parity = litert.export_verified(net, test[0][:VERIFY_IMAGES], tflite_path)
  with clock.time("evaluate"):
    top1_tflite = litert.top1(tflite_path, *test)
    top1_keras = train.top1(net, splits.test)
  with clock.time("benchmark"):
    # The network is fully convolutional: the interpreter resizes the file's input
    # to the deployment size, with the same outputs as a file converted at that size.
    speed = bench.benchmark([tflite_path], image_size=cfg.bench_image_size, threads=cfg.threads,
                            seconds=BENCH_SECONDS)[0]
  if cfg.int8:
    with clock.time("convert"):
      int8 = _int8(net, splits, test, os.path.join(partial, "model_int8.tflite"),
                   cfg.int8_granularity)
  sizes = bench.file_sizes(tflite_path)
  record = {
      **record_base,
      "generation": generation,
      "spec": spec,
      "params_total": arch.param_count(spec),
      "params_alive": genome.alive_params(masks),
      "macs": arch.macs(spec, cfg.bench_image_size),
      "macs_alive": arch.macs(spec, cfg.bench_image_size,
                              {k: int(m.sum()) for k, m in masks.items()}),
      "top1_keras": round(top1_keras, 5),
      "top1_tflite": round(top1_tflite, 5),
      "tflite_bytes": sizes["bytes"],
      "tflite_gzip_bytes": sizes["gzip_bytes"],
      "tflite_max_abs_diff": parity["max_abs_diff"],
      "images_per_sec_b1": speed["images_per_sec_b1"],
      "images_per_sec_b32": speed["images_per_sec_b32"],
      "latency_ms_p50": speed["latency_ms_p50"],
      "latency_ms_p90": speed["latency_ms_p90"],
      "bench_image_size": cfg.bench_image_size,
      "bench_threads": speed["threads"],
  }
  if cfg.int8:
    record.update(int8)
  record["phase_seconds"] = {k: round(v, 3) for k, v in clock.seconds.items()}
  record["wall_seconds"] = round(sum(clock.seconds.values()), 3)
  files.write_json(os.path.join(partial, "metrics.json"), record)
  os.replace(partial, gen_dir(workdir, generation))
  files.write_text(os.path.join(workdir, "metrics.jsonl"),
                   "".join(json.dumps(r, sort_keys=True) + "\n" for r in load_records(workdir)))
  return record


def _int8(net, splits, test, path: str, granularity: str) -> dict:
  """A verified post-training int8 file; one that fails verification is recorded as None."""
  from squish_tf import quantize
  representative = data.as_numpy(splits.train, limit=quantize.REPRESENTATIVE_IMAGES)[0]
  val_x, val_y = data.as_numpy(splits.validation)
  try:
    figures = quantize.export_int8(net, representative, val_x, val_y, path,
                                   granularity=granularity)
  except UserError as e:
    logging.warning("int8: %s", e)
    return {"tflite_int8_bytes": None, "top1_tflite_int8": None}
  return {"tflite_int8_bytes": figures["bytes"],
          "top1_tflite_int8": round(quantize.top1(path, *test), 5)}


def _ancestor(cfg, splits, clock: _Clock):
  """Trains generation 0, or loads it from --ancestor."""
  if cfg.ancestor:
    if not os.path.isfile(cfg.ancestor):
      raise UserError(f"--ancestor={cfg.ancestor}: no such file; pass a .keras model saved by "
                      f"squish-train, or drop the flag to train one")
    net = keras.saving.load_model(cfg.ancestor, compile=False)
    if model_lib.spec_of(net)[arch.HEAD] != splits.num_classes:
      raise UserError(f"--ancestor has {model_lib.spec_of(net)[arch.HEAD]} classes but "
                      f"{cfg.dataset} has {splits.num_classes}")
    if net.input_shape[1] != cfg.image_size:
      net = model_lib.rebuild(net, cfg.image_size)
    return net, 0.0
  strategy = distribute.make_strategy(cfg.strategy)
  with strategy.scope():  # a Keras model trains under the strategy it was built in
    net = model_lib.squeezenet(num_classes=splits.num_classes, image_size=cfg.image_size,
                               seed=_model_seed(cfg.seed, 0, 0))
  logging.info("generation 0: training the ancestor (%d parameters) for %d epochs",
               net.count_params(), cfg.epochs)
  with clock.time("train"), strategy.scope():
    train.fit(net, splits, cfg.epochs, cfg.batch_size, cfg.learning_rate, cfg.seed, verbose=2)
  return net, clock.seconds["train"]


@functools.lru_cache(maxsize=2)
def _splits(dataset: str, image_size: int, data_dir, seed: int) -> data.DataSplits:
  return data.load(dataset, image_size, data_dir, seed)


def offspring_task(cfg: config_lib.EvolveConfig, parent_spec: dict, parent_weights: dict,
                   parent_masks: dict, generation: int, k: int) -> dict:
  """Draws, squishes and fine-tunes offspring k of a generation, from plain data.

  Everything in and out is numpy or plain Python, so an executor may run it in
  another process or on another machine; the same inputs give the same result.
  Returns {"offspring", "top1_val", "spec", "weights", "masks", "phase_seconds"}.
  """
  clock = _Clock()
  splits = _splits(cfg.dataset, cfg.image_size, cfg.data_dir, cfg.seed)
  with clock.time("sample"):
    rng = genome.generation_rng(cfg.seed, generation, k)
    masks = genome.sample_offspring(parent_weights, parent_masks, cfg.r_syn, cfg.r_clu,
                                    cfg.synthesis, rng)
  strategy = distribute.make_strategy(cfg.strategy)
  with clock.time("surgery"), strategy.scope():  # built, compiled and fitted in one strategy
    squished = surgery.squish(parent_spec, parent_weights, masks)
    net = model_lib.squeezenet(squished.spec, splits.num_classes, image_size=cfg.image_size,
                               seed=_model_seed(cfg.seed, generation, k))
    if cfg.offspring_init == "inherit":
      model_lib.set_weights(net, squished.weights)
    masking.apply_masks(net, squished.masks)
  with clock.time("train"), strategy.scope():
    epochs = cfg.finetune_epochs if cfg.offspring_init == "inherit" else cfg.epochs
    train.fit(net, splits, epochs, cfg.batch_size, cfg.learning_rate,
              _model_seed(cfg.seed, generation, k), verbose=0)
  masking.strip_masks(net)
  with clock.time("evaluate"):
    val = train.top1(net, splits.validation)
  return {"offspring": k, "top1_val": val, "spec": squished.spec,
          "weights": model_lib.get_weights(net), "masks": squished.masks,
          "phase_seconds": clock.seconds}


def local_map(fn, arg_lists):
  """The default executor: one offspring after another in this process."""
  return [fn(*args) for args in arg_lists]


def _network(cfg, spec: dict, weights: dict):
  net = model_lib.squeezenet(spec, spec[arch.HEAD], image_size=cfg.image_size)
  model_lib.set_weights(net, weights)
  return net


def run(cfg: config_lib.EvolveConfig, workdir: str, resume: bool = False,
        executor=local_map) -> list[dict]:
  """Runs (or resumes) the evolution; returns the metrics of every finished generation.

  `executor(fn, arg_lists)` runs `fn(*args)` for each offspring and returns the
  results in order; the default runs them here, one after another.
  """
  _start(cfg, workdir, resume)
  # Seeded and deterministic ops, so that a resumed run trains and draws what an
  # uninterrupted one would. Interpreter benchmarks are timings and vary.
  keras.utils.set_random_seed(cfg.seed)
  tf.config.experimental.enable_op_determinism()
  state_path = os.path.join(workdir, "state.json")
  state = files.read_json(state_path) if os.path.exists(state_path) else {}
  if state.get("stopped") and resume:
    logging.info("this run stopped at generation %s: %s", state.get("generation"), state["stopped"])
  splits = _splits(cfg.dataset, cfg.image_size, cfg.data_dir, cfg.seed)
  files.write_text(os.path.join(workdir, "labels.txt"), "\n".join(splits.class_names) + "\n")
  test = data.as_numpy(splits.test)
  done = finished_generations(workdir)
  if not done:
    clock = _Clock()
    net, train_seconds = _ancestor(cfg, splits, clock)
    with clock.time("evaluate"):
      val = train.top1(net, splits.validation)
    masks = genome.full_masks(model_lib.get_weights(net))
    record = _save_generation(workdir, 0, net, masks,
                              {"top1_val": round(val, 5), "train_seconds": round(train_seconds, 3),
                               "offspring": 0, "population": 1, "failed_offspring": 0},
                              splits, test, cfg, clock)
    _log_generation(record, cfg)
    done = [0]
  last = done[-1]
  parent = keras.saving.load_model(os.path.join(gen_dir(workdir, last), "model.keras"),
                                   compile=False)
  with np.load(os.path.join(gen_dir(workdir, last), "masks.npz")) as saved:
    parent_masks = {k: saved[k] for k in arch.CONV_LAYERS}
  for generation in range(last + 1, cfg.generations + 1):
    if state.get("stopped"):
      break
    logging.info("generation %d/%d: drawing, squishing and fine-tuning %d offspring from "
                 "%s parameters", generation, cfg.generations, cfg.population,
                 f"{parent.count_params():,}")
    spec, weights = model_lib.spec_of(parent), model_lib.get_weights(parent)
    results = executor(offspring_task, [(cfg, spec, weights, parent_masks, generation, k)
                                        for k in range(cfg.population)])
    clock = _Clock()
    failed = [r for r in results if r.get("failed")]
    for res in results:
      if res.get("failed"):
        logging.warning("  offspring %d/%d failed: %s", res["offspring"] + 1, cfg.population,
                        res["failed"])
        continue
      for phase, seconds in res["phase_seconds"].items():
        clock.seconds[phase] = clock.seconds.get(phase, 0.0) + seconds
      logging.info("  offspring %d/%d: %s parameters, validation top-1 %.4f",
                   res["offspring"] + 1, cfg.population,
                   f"{arch.param_count(res['spec']):,}", res["top1_val"])
    if len(failed) == len(results):  # not the network's fault: nothing is written, resume retries
      raise RuntimeError(f"generation {generation}: every offspring failed (first: "
                         f"{failed[0]['failed']}); rerun with --resume to retry it")
    fit_ones = [r for r in results if not r.get("failed") and r["top1_val"] >= cfg.accuracy_floor]
    if not fit_ones:
      best = max(r["top1_val"] for r in results if not r.get("failed"))
      state = {"stopped": f"no offspring reached --accuracy_floor={cfg.accuracy_floor} "
                          f"(best validation top-1 {best:.4f})", "generation": generation}
      files.write_json(state_path, state)
      logging.warning("generation %d: %s; the run stops here, keeping generations 0-%d",
                      generation, state["stopped"], generation - 1)
      break
    # Best validation top-1; ties go to the smaller network, then the first drawn.
    best = max(fit_ones, key=lambda r: (r["top1_val"], -arch.param_count(r["spec"]),
                                        -r["offspring"]))
    net = _network(cfg, best["spec"], best["weights"])
    record = _save_generation(
        workdir, generation, net, best["masks"],
        {"top1_val": round(best["top1_val"], 5),
         "train_seconds": round(clock.seconds.get("train", 0.0), 3),
         "offspring": best["offspring"], "population": cfg.population,
         "failed_offspring": len(failed)}, splits, test, cfg, clock)
    _log_generation(record, cfg)
    parent, parent_masks = net, best["masks"]
  return load_records(workdir)


def _log_generation(record: dict, cfg) -> None:
  logging.info("generation %d/%d done: %s params (%s alive), top-1 val %.4f / test tflite %.4f, "
               "%.3f MB .tflite, %.0f img/s at b32 (%dx%d), %.1f s",
               record["generation"], cfg.generations, f"{record['params_total']:,}",
               f"{record['params_alive']:,}", record["top1_val"], record["top1_tflite"],
               record["tflite_bytes"] / 1e6, record["images_per_sec_b32"],
               cfg.bench_image_size, cfg.bench_image_size, record["wall_seconds"])

"""The generations loop: draw, squish, fine-tune, select, convert, measure, save.

`run(cfg, workdir)` trains (or loads) the ancestor as generation 0, then for each
generation asks an executor for `cfg.population` offspring (`offspring.offspring_task`),
selects the next parent (`selection`), and saves it with its .tflite, evaluation and
interpreter benchmark. The run directory (`squish_tf.rundir`) holds everything needed to
resume or report.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from squish_tf import config as config_lib
from squish_tf import data, errors, files, train
from squish_tf.bench import litert_bench
from squish_tf.errors import UserError
from squish_tf.evolve import genome, opening, selection
from squish_tf.evolve.clock import PhaseClock
from squish_tf.evolve.executors import offspring_label
from squish_tf.evolve.offspring import model_seed, offspring_task, planned_epochs, polish_task
from squish_tf.evolve.offspring import splits as load_splits
from squish_tf.export import litert, runtime
from squish_tf.net import arch
from squish_tf.net import model as model_lib
from squish_tf.rundir import RunDir, check_keras_zip
from squish_tf.train import distribute, provenance

VERIFY_IMAGES = 64
# Latency at the release size, batch 1: thousands of runs per round at small sizes, so the
# median of 5 rounds (--bench_seconds split between them) is stable; benchmarks/ measures
# side by side.
RELEASE_ROUNDS = 5


def local_map(fn, arg_lists):
  """The simplest executor: one offspring after another in this process."""
  return [fn(*args) for args in arg_lists]


def _provenance(cfg, ds) -> dict:
  return provenance.record(cfg.dataset, cfg.seed, cfg.image_size, ds.class_names, cfg.data_dir)


def _save_generation(run: RunDir, generation: int, net, masks: dict, record_base: dict,
                     ds, test, cfg, clock: PhaseClock) -> dict:
  """Converts, evaluates, benchmarks and writes one generation; returns its metrics line."""
  spec = model_lib.spec_of(net)
  val_x = data.as_numpy(ds.validation, limit=VERIFY_IMAGES)[0]
  with run.new_generation(generation) as partial:
    net.save(os.path.join(partial, "model.keras"))
    provenance.write(os.path.join(partial, "model.keras"), _provenance(cfg, ds))
    np.savez_compressed(os.path.join(partial, "masks.npz"), **masks)
    files.write_json(os.path.join(partial, "spec.json"), spec)
    tflite_path = os.path.join(partial, "model.tflite")
    with clock.time("convert"):
      parity = litert.export_verified(net, val_x, tflite_path)
    with clock.time("evaluate"):
      top1_tflite = runtime.top1(tflite_path, *test)
      top1_keras = train.top1(net, ds.test)
    with clock.time("benchmark"):
      speed = _bench_at_size(net, tflite_path, cfg)
      release = release_latency(tflite_path, cfg.image_size, cfg.threads, cfg.bench_seconds)
    if cfg.int8:
      with clock.time("convert"):
        int8 = _int8(net, ds, test, os.path.join(partial, "model_int8.tflite"),
                     cfg.int8_granularity)
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
        **{f"tflite_{k}": v for k, v in files.sizes(tflite_path).items()},
        "tflite_max_abs_diff": parity["max_abs_diff"],
        "images_per_sec_b1": speed["images_per_sec_b1"],
        "images_per_sec_b32": speed["images_per_sec_b32"],
        "latency_ms_p50": speed["latency_ms_p50"],
        "latency_ms_p90": speed["latency_ms_p90"],
        "bench_image_size": cfg.bench_image_size,
        "bench_threads": speed["threads"],
        "bench_seconds": cfg.bench_seconds,  # may change on a resume, as the threads may
        "macs_release": arch.macs(spec, cfg.image_size),
        "macs_224": arch.macs(spec, 224),
        **release,
    }
    if cfg.int8:
      record.update(int8)
    record["phase_seconds"] = {k: round(v, 3) for k, v in clock.seconds.items()}
    record["wall_seconds"] = round(sum(clock.seconds.values()), 3)
    files.write_json(os.path.join(partial, "metrics.json"), record)
  return record


def _bench_at_size(net, tflite_path: str, cfg) -> dict:
  """Batch 1 and 32 at --bench_image_size. The network is fully convolutional: the
  interpreter resizes the file's input, with the same outputs as a file converted at that
  size, unless the file is folded for its own size (`model_lib.release_form`); then the
  network as trained is converted for the timing."""
  as_trained = cfg.bench_image_size != cfg.image_size and model_lib.foldable(net)
  with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "as_trained.tflite") if as_trained else tflite_path
    if as_trained:
      files.write_bytes(path, litert.to_tflite(net, fold=False))
    return litert_bench.benchmark([path], image_size=cfg.bench_image_size,
                                  threads=cfg.threads, seconds=cfg.bench_seconds)[0]


def release_latency(tflite_path: str, image_size: int, threads: int | None,
                    seconds: float) -> dict:
  """Batch-1 latency percentiles at the release size, on 1 thread and on all (or --threads)."""
  out = {}
  for tag, count in (("t1", 1), ("tall", threads or os.cpu_count())):
    r = litert_bench.benchmark([tflite_path], image_size=image_size, threads=count,
                               batch_sizes=(1,), seconds=seconds,
                               rounds=RELEASE_ROUNDS)[0]
    for p in (10, 50, 90):
      out[f"latency_ms_p{p}_release_{tag}"] = r[f"latency_ms_p{p}"]
  out["release_threads_all"] = threads or os.cpu_count()
  return out


def _representative(ds):
  """int8 calibration images: the first of the training split."""
  from squish_tf.export import int8
  return data.as_numpy(ds.train, limit=int8.REPRESENTATIVE_IMAGES)[0]


def _int8(net, ds, test, path: str, granularity: str) -> dict:
  """A verified post-training int8 file; one that fails verification is recorded as None."""
  from squish_tf.export import int8
  representative = _representative(ds)
  val_x, val_y = data.as_numpy(ds.validation)
  figures, refused = int8.export_int8_or_refusal(net, representative, val_x, val_y, path,
                                                 granularity)
  if refused:
    logging.warning("int8: %s", refused)
    return {"tflite_int8_bytes": None, "top1_tflite_int8": None}
  return {"tflite_int8_bytes": figures["bytes"],
          "top1_tflite_int8": round(runtime.top1(path, *test), 5)}


def _ancestor(cfg, ds, clock: PhaseClock):
  """Trains generation 0, or loads it from --ancestor."""
  if cfg.ancestor:
    if not os.path.isfile(cfg.ancestor) or not cfg.ancestor.endswith(".keras"):
      what = "is not a .keras file" if os.path.isfile(cfg.ancestor) else "no such file"
      raise UserError(f"--ancestor={cfg.ancestor}: {what}; pass a model.keras saved by "
                      f"squish-train, or drop the flag to train one")
    check_keras_zip(cfg.ancestor, lambda path: "write it again with squish-train, or drop "
                    "--ancestor to train one")
    provenance.check(provenance.read(cfg.ancestor), _provenance(cfg, ds), cfg.ancestor)
    net = keras.saving.load_model(cfg.ancestor, compile=False)
    if model_lib.spec_of(net)[arch.HEAD] != ds.num_classes:
      raise UserError(f"--ancestor has {model_lib.spec_of(net)[arch.HEAD]} classes but "
                      f"{cfg.dataset} has {ds.num_classes}")
    return net, 0.0
  strategy = distribute.make_strategy(cfg.strategy)
  with strategy.scope():  # a Keras model trains under the strategy it was built in
    net = model_lib.squeezenet(num_classes=ds.num_classes, image_size=cfg.image_size,
                               seed=model_seed(cfg.seed, 0, 0))
  logging.info("generation 0: training the ancestor (%d parameters) for %d epochs",
               net.count_params(), cfg.epochs)
  with clock.time("train"), strategy.scope():
    train.fit(net, ds, cfg.epochs, cfg.batch_size, cfg.learning_rate, cfg.seed, verbose=2)
  return net, clock.seconds["train"]


def _network(cfg, spec: dict, weights: dict, head_activation: str):
  net = model_lib.squeezenet(spec, spec[arch.HEAD], image_size=cfg.image_size,
                             head_activation=head_activation)
  model_lib.set_weights(net, weights)
  return net


def _load_generation(run: RunDir, generation: int):
  """(model, masks) of a finished generation: the parent of the next one."""
  net = keras.saving.load_model(run.gen_file(generation, "model.keras"), compile=False)
  with np.load(run.gen_file(generation, "masks.npz")) as saved:
    masks = {k: saved[k] for k in arch.CONV_LAYERS}
  return net, masks


def milder(factor: float, retry: int) -> float:
  """An environmental factor moved halfway towards 1 per retry (0.9 -> 0.95 -> 0.975)."""
  return 1.0 - (1.0 - factor) / 2 ** retry


def floor_for(cfg, ancestor_top1: float) -> float:
  """The validation top-1 an offspring needs: --accuracy_floor, and no more than
  --max_accuracy_drop below the ancestor."""
  if cfg.max_accuracy_drop is None:
    return cfg.accuracy_floor
  return max(cfg.accuracy_floor, ancestor_top1 - cfg.max_accuracy_drop)


def target_reached(record: dict, cfg) -> str | None:
  """Which --target_* this generation meets, in words, or None."""
  checks = (("target_size_kb", record["tflite_bytes"] / 1e3, "KB float32 .tflite"),
            ("target_latency_ms", record.get("latency_ms_p50_release_t1"),
             "ms at batch 1 on 1 thread"),
            ("target_macs", record.get("macs_release"), "MACs"),
            ("target_int8_kb", _kb(record.get("tflite_int8_bytes")), "KB int8 .tflite"))
  for name, value, unit in checks:
    goal = getattr(cfg, name)
    if goal is not None and value is not None and value <= goal:
      return f"--{name}={goal:g} reached ({value:g} {unit})"
  return None


def stalled(bred: list[dict], cfg) -> str | None:
  """Why the run should end for --stall_generations, in words, or None: the last
  `stall_generations` bred generations all have the filter counts of the one before them.
  At the channel multiple's floor a draw's deaths round back up, and each such generation is
  only more fine-tuning of the same network."""
  n = cfg.stall_generations
  if not n or len(bred) <= n or any(r["spec"] != bred[-n - 1]["spec"] for r in bred[-n:]):
    return None
  return (f"{n} generation(s) in a row bred nothing smaller than generation "
          f"{bred[-n - 1]['generation']} (the same filter counts); to go on, resume with a larger "
          f"--stall_generations (0: off), a smaller --channel_multiple or a smaller --r_clu")


def _kb(n_bytes):
  return None if n_bytes is None else n_bytes / 1e3


def _size(cfg, head: str, representative):
  """The objective of tradeoff selection, as a function of an offspring's result.
  `representative()` gives the int8 calibration images (loaded only if needed)."""
  if cfg.objective == "params":
    return lambda r: arch.param_count(r["spec"])
  if cfg.objective == "macs":
    return lambda r: arch.macs(r["spec"], cfg.image_size)
  if cfg.objective == "int8_size":
    def int8_size(r):  # the file a phone ships: per-channel scales make it more than params
      from squish_tf.export import int8
      net = _network(cfg, r["spec"], r["weights"], head)
      return len(int8.convert_int8(net, representative(), granularity=cfg.int8_granularity))
    return int8_size

  # measured: widths that suit the vector unit run faster per MAC. Its timing is fixed, not
  # --bench_seconds: it decides the selection, which a resume must repeat.
  def latency(r):
    net = _network(cfg, r["spec"], r["weights"], head)
    with tempfile.TemporaryDirectory() as tmp:
      path = os.path.join(tmp, "offspring.tflite")
      files.write_bytes(path, litert.to_tflite(net))
      return litert_bench.benchmark([path], image_size=cfg.image_size, threads=1,
                                    batch_sizes=(1,), seconds=0.3, rounds=3)[0]["latency_ms_p50"]
  return latency


def first_level(cfg, last: dict) -> int:
  """How many halvings towards 1 a generation's first draw uses: 0, or with
  --adaptive_factors the level that bred the last generation, one step harsher when that
  generation was fit at its first draw. A draw the floor refuses costs its training epochs,
  and in the pol24 runs most generations needed the same one retry."""
  if not cfg.adaptive_factors or last["generation"] == 0:
    return 0
  retries = last.get("milder_retries", 0)
  # A record older than --adaptive_factors lacks milder_level: its first draw was level 0,
  # so its level is its retries. Either is at most --milder_retries: retries stop there.
  level = last.get("milder_level", retries)
  return level if retries else max(0, level - 1)


def _offspring(cfg, executor, parent, parent_masks, generation: int, floor: float,
               representative, level: int = 0):
  """Draws, fine-tunes and selects this generation's parent, its factors halved towards 1
  `level` times; with --max_accuracy_drop, retries one level milder while no offspring is
  fit, up to --milder_retries halvings. Returns (best or None, every result, the factors of
  the last attempt, retries used, summed phase seconds)."""
  spec, weights = model_lib.spec_of(parent), model_lib.get_weights(parent)
  head = model_lib.options_of(parent)["head_activation"]
  retries = cfg.milder_retries - level if cfg.max_accuracy_drop is not None else 0
  clock, every = PhaseClock(), []
  for retry in range(retries + 1):
    run_cfg = dataclasses.replace(cfg, r_syn=milder(cfg.r_syn, level + retry),
                                  r_clu=milder(cfg.r_clu, level + retry))
    # other offspring indices: other random streams, one set per level
    offset = (level + retry) * cfg.population
    results = executor(offspring_task, [(run_cfg, spec, weights, parent_masks, generation,
                                         offset + k, head, floor)
                                        for k in range(cfg.population)])
    every += results
    for res in results:
      _log_offspring(res, cfg)
      clock.add_all(res["phase_seconds"])
    if all(r.get("failed") and not r.get("no_input") for r in results):
      # not the network's fault: resume retries (a draw that cut a class off is unfit)
      raise RuntimeError(f"generation {generation}: every offspring failed (first: "
                         f"{results[0]['failed']}); rerun with --resume to retry it")
    best = selection.best(results, floor, cfg.selection, cfg.selection_tolerance,
                          _size(cfg, head, representative))
    if best is not None:
      return best, every, run_cfg, retry, clock
    if retry < retries:
      logging.info("  no offspring within the floor (%.4f); retrying with milder factors",
                   floor)
  return None, every, run_cfg, retries, clock


def _log_offspring(res: dict, cfg) -> None:
  label = offspring_label(res["offspring"], cfg.population)
  if res.get("failed"):
    logging.warning("  %s failed: %s", label, res["failed"])
  else:
    logging.info("  %s: %s parameters, validation top-1 %.4f", label,
                 f"{arch.param_count(res['spec']):,}", res["top1_val"])


def _stop_message(cfg, floor: float, results: list[dict], factors) -> str:
  trained = [r["top1_val"] for r in results if not r.get("failed")]
  if not trained:
    return (f"every draw left a class with no input from the image, even at "
            f"r_syn={factors.r_syn:g}, r_clu={factors.r_clu:g}; start a new run with milder "
            f"--r_syn/--r_clu")
  top = max(trained)
  if cfg.max_accuracy_drop is None:
    return f"no offspring reached --accuracy_floor={cfg.accuracy_floor} (best validation " \
           f"top-1 {top:.4f})"
  return (f"no offspring within --max_accuracy_drop={cfg.max_accuracy_drop} of the ancestor "
          f"(validation top-1 floor {floor:.4f}, --accuracy_floor={cfg.accuracy_floor}; best "
          f"{top:.4f}), even at r_syn={factors.r_syn:g}, r_clu={factors.r_clu:g}")


def run(cfg: config_lib.EvolveConfig, workdir: str, resume: bool = False,
        executor=local_map) -> list[dict]:
  """Runs (or resumes) the evolution; returns the metrics of every finished generation.

  `executor(fn, arg_lists)` runs `fn(*args)` for each offspring and returns the
  results in order; the default runs them here, one after another. The run directory is
  locked against a second process while this runs.
  """
  rundir = opening.start(cfg, workdir, resume)
  try:
    return _evolve(cfg, rundir, resume, executor)
  finally:
    files.release(workdir)


def _evolve(cfg: config_lib.EvolveConfig, rundir: RunDir, resume: bool, executor) -> list[dict]:
  """`run`'s work, in an opened run directory."""
  # Seeded and deterministic ops, so that a resumed run trains and draws what an
  # uninterrupted one would. Interpreter benchmarks are timings and vary.
  keras.utils.set_random_seed(cfg.seed)
  tf.config.experimental.enable_op_determinism()
  ds = load_splits(cfg.dataset, cfg.image_size, cfg.data_dir, cfg.seed)
  rundir.write_labels(ds.class_names)
  test = data.as_numpy(ds.test)
  done = rundir.finished_generations()
  if not done:
    clock = PhaseClock()
    net, train_seconds = _ancestor(cfg, ds, clock)
    with clock.time("evaluate"):
      val = train.top1(net, ds.validation)
    masks = genome.full_masks(model_lib.get_weights(net))
    record = _save_generation(rundir, 0, net, masks,
                              {"top1_val": round(val, 5), "train_seconds": round(train_seconds, 3),
                               "offspring": 0, "population": 1, "failed_offspring": 0},
                              ds, test, cfg, clock)
    _log_generation(record, cfg)
    done = [0]
  records = rundir.records()
  state = rundir.read_state()
  # A polish repeats its parent's network; its latency, timed again, must not re-open a stop.
  bred = [r for r in records if not r.get("polish")]
  if (state.get("target") and not target_reached(bred[-1], cfg)
      or state.get("stall") and not stalled(bred, cfg)):
    # resumed with a target further away, or more patience (or none): the run goes on, and
    # state.json stops saying it stopped (the report reads it)
    state = {}
    rundir.write_state(state)
  if state.get("stopped") and resume:
    logging.info("this run stopped at generation %s: %s", state.get("generation"),
                 state["stopped"])
  floor = floor_for(cfg, records[0]["top1_val"])
  representative = functools.cache(lambda: _representative(ds))  # for --objective=int8_size
  parent, parent_masks = _load_generation(rundir, done[-1])
  for generation in range(done[-1] + 1, cfg.generations + 1):
    if state.get("stopped"):
      break
    errors.check_signals()  # a Ctrl-C swallowed by one of TensorFlow's finalizers ends the run here
    logging.info("generation %d/%d: drawing, squishing and fine-tuning %d offspring from "
                 "%s parameters", generation, cfg.generations, cfg.population,
                 f"{parent.count_params():,}")
    level = first_level(cfg, bred[-1])
    best, results, factors, retries, clock = _offspring(cfg, executor, parent, parent_masks,
                                                        generation, floor, representative,
                                                        level)
    if best is None:
      state = {"stopped": _stop_message(cfg, floor, results, factors), "generation": generation}
      rundir.write_state(state)
      logging.warning("generation %d: %s; the run stops here, keeping generations 0-%d",
                      generation, state["stopped"], generation - 1)
      break
    net = _network(cfg, best["spec"], best["weights"],
                   model_lib.options_of(parent)["head_activation"])
    record = _save_generation(
        rundir, generation, net, best["masks"],
        _bred_fields(best, clock, cfg.population, retries, factors.r_syn, factors.r_clu,
                     failed=sum(1 for r in results if r.get("failed")),
                     # a failed offspring is charged what it would have trained
                     epochs=sum(r.get("epochs", planned_epochs(cfg)) for r in results)),
        ds, test, cfg, clock)
    _log_generation(record, cfg)
    parent, parent_masks = net, best["masks"]
    records.append(record)
    bred.append(record)
    reached, stall = target_reached(record, cfg), stalled(bred, cfg)
    if reached or stall:
      state = {"stopped": reached or stall, "generation": generation,
               "target" if reached else "stall": True}
      rundir.write_state(state)
      logging.info("generation %d: %s; the run ends here", generation, state["stopped"])
  if cfg.polish_epochs and len(records) > 1 and not records[-1].get("polish"):
    _polish(cfg, executor, rundir, parent, parent_masks, records[-1]["generation"] + 1, ds, test)
  return rundir.records()  # as written: what a resumed or reported run reads


def _bred_fields(res: dict, clock: PhaseClock, population: int, retries: int, r_syn: float,
                 r_clu: float, failed: int, epochs: int) -> dict:
  """What a generation's metrics line says of how it was bred, besides its measurements.
  Each milder level draws its own offspring indices, so the index says the level."""
  return {"top1_val": round(res["top1_val"], 5),
          "train_seconds": round(clock.seconds.get("train", 0.0), 3),
          "offspring": res["offspring"], "population": population, "failed_offspring": failed,
          "r_syn_used": r_syn, "r_clu_used": r_clu, "milder_retries": retries,
          "milder_level": res["offspring"] // population,
          "offspring_epochs": epochs}


def _polish(cfg, executor, rundir: RunDir, parent, masks: dict, generation: int, ds,
            test) -> None:
  """Writes the last generation, trained --polish_epochs more, as `generation`."""
  logging.info("generation %d: polishing generation %d for %d epochs", generation,
               generation - 1, cfg.polish_epochs)
  head = model_lib.options_of(parent)["head_activation"]
  [res] = executor(polish_task, [(cfg, model_lib.spec_of(parent), model_lib.get_weights(parent),
                                  masks, generation, 0, head)])
  if res.get("failed"):
    raise RuntimeError(f"generation {generation}: polishing failed ({res['failed']}); rerun "
                       f"with --resume to retry it")
  clock = PhaseClock()
  clock.add_all(res["phase_seconds"])
  record = _save_generation(
      rundir, generation, _network(cfg, res["spec"], res["weights"], head), res["masks"],
      {**_bred_fields(res, clock, population=1, retries=0, r_syn=1.0, r_clu=1.0, failed=0,
                      epochs=res["epochs"]),
       "polish": True},
      ds, test, cfg, clock)
  _log_generation(record, cfg)


def _log_generation(record: dict, cfg) -> None:
  logging.info("generation %d/%d done: %s params (%s alive), top-1 val %.4f / test tflite %.4f, "
               "%.3f MB .tflite, %.0f img/s at b32 (%dx%d), %.1f s",
               record["generation"], cfg.generations, f"{record['params_total']:,}",
               f"{record['params_alive']:,}", record["top1_val"], record["top1_tflite"],
               record["tflite_bytes"] / 1e6, record["images_per_sec_b32"],
               cfg.bench_image_size, cfg.bench_image_size, record["wall_seconds"])

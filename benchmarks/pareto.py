"""The accuracy-size and accuracy-latency fronts of evolution against the baselines, per seed.

  python benchmarks/pareto.py                  # 3 seeds, fashion_mnist:200 at 32x32: hours
                                               # (each seed its own process, --jobs at once)
  python benchmarks/pareto.py --quick          # minutes; its figures mean nothing
  python benchmarks/pareto.py --measure_only   # latency again (idle machine), then outputs
  python benchmarks/pareto.py --replot         # .md and .png again from the .json

For each seed: the default evolution (`squish_tf.evolve.loop.run`, EvolveConfig's defaults,
at the release input size, with int8 files), its SquishedNets named as `squish-report`
names them, and, matched to its smallest SquishedNet-k (every one with --match=all), the
baselines (`--methods`):
  scratch       the same architecture trained from scratch for the evolution's budget
  width         SqueezeNet v1.1 scaled uniformly in width to the same parameter count
  width_latency the same, scaled to the SquishedNet's latency instead (found by timing side
                by side, as l1_latency is)
  l1_oneshot    the trained ancestor's weakest filters (L1 norm) removed through the
                project's surgery in one step to the same parameter count, then fine-tuned
  l1_iterative  the same in one step per generation, fine-tuned after each
  l1_latency    l1_iterative pruned on to the SquishedNet's latency instead of its size
                (batch 1, 1 thread, the release size), found by timing side by side
  tfmot         tfmot magnitude pruning of the ancestor (smallest SquishedNet only)
  mobilenet     MobileNetV3-Small 1.0, 0.75 and minimalistic, trained as long as the ancestor
The squeezenet baselines train as offspring do (batch, schedule, augmentation; warmup when
they fine-tune); with the evolution's --distill, the L1 methods distil as offspring do, from
the network they were pruned from (the step before, or the ancestor), except in the step that
matches the evolution's polish, which does not distil. tfmot and the networks trained from
scratch never distil.
Every network is saved with a verified float32 and int8 .tflite under
WORKDIR/seed_<s>/<method>_<k>/; a finished piece is reused when the command runs again. Each
piece, and each seed's offspring (with --executor=process, the default), trains in a process
of its own (TensorFlow keeps memory behind every network a process trains). At
the end every file of every seed is timed in one process, side by side, at batch 1 on 1
thread and on all cores. Writes RESULTS_DIR/pareto[_quick][_TAG].json, .md, _size.png and
_latency.png (pareto_report.py).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shlex
import shutil
import sys
import time
import zlib

import numpy as np
from absl import flags, logging

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # imported from elsewhere (tests): peers.py and results.py are here
  sys.path.insert(0, HERE)

import peers  # noqa: E402  (benchmarks/peers.py)
import results  # noqa: E402  (benchmarks/results.py)

from pareto_report import (  # noqa: E402  (benchmarks/pareto_report.py)
    FIGURES, METHODS, RATIOS, aggregate, replot, write_outputs)

# What --quick changes, unless the flag is given too. A 3-epoch ancestor is far from trained:
# no floor (absolute or relative) and no naming tolerance, so that every baseline still runs.
QUICK = {"dataset": "fashion_mnist:100", "seeds": ["0"], "max_models": 2, "max_drop": 1.0,
         "mobilenet": ["1.0"], "bench_seconds": 0.2, "bench_rounds": 3}
QUICK_EVOLVE = {"generations": 3, "epochs": 3, "finetune_epochs": 1, "accuracy_floor": 0.0,
                "max_accuracy_drop": 1.0}
# The default benchmark's evolution: EvolveConfig's defaults but shorter training (ancestor
# 20 epochs, offspring 4), so that 3 seeds with every baseline fit 3 hours on 2 cores.
BUDGET = ("epochs=20", "finetune_epochs=4")
VERIFY_IMAGES = 64  # float32 .tflite checked against Keras on this many validation images
RUN_FILE = "pareto_run.json"  # what a work directory was made with
CHILD_SECONDS = 0.02  # a seed process's timing per file: its logs/seed_N/ results only


@dataclasses.dataclass(frozen=True)
class Plan:
  """What one invocation measures, and where it writes."""
  dataset: str
  image_size: int
  seeds: tuple
  methods: tuple
  overrides: dict  # EvolveConfig fields changed from their defaults
  tag: str
  mobilenet: tuple  # MobileNetV3-Small variants (peers.MOBILENET_VARIANTS)
  max_drop: float
  max_models: int
  match: str  # "smallest": baselines matched to each seed's smallest SquishedNet; "all"
  bench_seconds: float
  bench_rounds: int
  quick: bool
  workdir: str
  results_dir: str
  command: str
  executor: str = "process"  # where a seed's offspring train (squish-evolve's --executor)

  @property
  def name(self) -> str:
    return "pareto" + ("_quick" if self.quick else "") + (
        "" if self.tag == "default" else f"_{self.tag}")


# --- Configuration -------------------------------------------------------------------------

def parse_overrides(items: list[str]) -> dict:
  """{field: value} from key=value strings, typed like EvolveConfig's default of the field."""
  from squish_tf import config
  from squish_tf.errors import UserError
  defaults = config.to_dict(config.EvolveConfig())
  out = {}
  for item in items:
    key, sep, text = item.partition("=")
    if not sep or key not in defaults:
      raise UserError(f"--evolve={item}: expected key=value with key an EvolveConfig field "
                      f"({', '.join(sorted(defaults))})")
    try:
      out[key] = _typed(text, defaults[key])
    except ValueError:
      raise UserError(f"--evolve={item}: {text!r} is not a value of the type of "
                      f"{key}={defaults[key]!r}") from None
  return out


def _typed(text: str, default):
  if text.lower() in ("none", "null"):
    return None
  if isinstance(default, bool):
    if text.lower() not in ("true", "false", "1", "0"):
      raise ValueError(text)
    return text.lower() in ("true", "1")
  if isinstance(default, (int, float, str)):
    return type(default)(text)
  for kind in (int, float):  # a field whose default is None
    try:
      return kind(text)
    except ValueError:
      pass
  return text


def evolve_config(plan: Plan, seed: int):
  """The evolution of one seed: EvolveConfig's defaults, --evolve, the data and release size."""
  from squish_tf import config
  from squish_tf.errors import UserError
  fixed = {"dataset": plan.dataset, "image_size": plan.image_size,
           "bench_image_size": plan.image_size, "seed": seed, "int8": True}
  clash = sorted(set(plan.overrides) & set(fixed))
  if clash:
    raise UserError(f"--evolve may not set {', '.join(clash)}: pareto.py fixes them (use "
                    f"--dataset, --image_size, --seeds)")
  return config.EvolveConfig(**{**plan.overrides, **fixed})


def check_workdir(plan: Plan) -> None:
  """A work directory holds one configuration: another would mix its pieces with ours."""
  from squish_tf import files
  from squish_tf.errors import UserError
  identity = {"dataset": plan.dataset, "image_size": plan.image_size, "tag": plan.tag,
              "overrides": plan.overrides}
  path = os.path.join(plan.workdir, RUN_FILE)
  if os.path.exists(path):
    saved = files.read_json(path)
    if saved != identity:
      raise UserError(f"--workdir={plan.workdir} was made with {saved}, not {identity}; use "
                      f"the same flags or another --workdir")
    return
  files.ensure_writable_dir(plan.workdir)
  files.write_json(path, identity)


# --- One seed: its evolution, its data, what the baselines are matched to -------------------

@dataclasses.dataclass
class SeedRun:
  """One seed's evolution and everything its baselines need, loaded when first used."""
  seed: int
  cfg: object  # EvolveConfig
  root: str  # WORKDIR/seed_<s>
  records: list
  named: list  # [{"name", "generation"}] from table2.name_squishednets
  budgets: dict  # {generation: epochs of training the evolution spent to reach it}
  match: str = "smallest"  # Plan.match

  @property
  def evolution_dir(self) -> str:
    return os.path.join(self.root, "evolution")

  @functools.cached_property
  def data(self):
    from squish_tf import data
    from squish_tf.evolve import offspring
    from squish_tf.export import int8
    ds = offspring.splits(self.cfg.dataset, self.cfg.image_size, self.cfg.data_dir, self.seed)
    return {"splits": ds, "val": data.as_numpy(ds.validation), "test": data.as_numpy(ds.test),
            "representative": data.as_numpy(ds.train, limit=int8.REPRESENTATIVE_IMAGES)[0]}

  @functools.cached_property
  def ancestor(self):
    import keras
    from squish_tf.rundir import RunDir
    return keras.saving.load_model(RunDir(self.evolution_dir).gen_file(0, "model.keras"),
                                   compile=False)

  @property
  def head_activation(self) -> str:
    from squish_tf.net import model as model_lib
    return model_lib.options_of(self.ancestor)["head_activation"]

  def matched(self) -> list[tuple[int, int]]:
    """(k, generation) of the SquishedNet-k the baselines are matched to (k from 1): every
    one, or only the smallest (the costliest to match, and the one a release ships)."""
    every = [(i + 1, n["generation"]) for i, n in enumerate(self.named)]
    if self.match == "all" or not every:
      return every
    return [min(every, key=lambda m: self.records[m[1]]["params_total"])]


def budgets(cfg, records: list[dict]) -> dict:
  """{generation: epochs}: the ancestor's, plus every offspring's up to that generation (as
  recorded, recovery epochs included; older runs: population x (1 + milder retries) x the
  epochs one offspring trains)."""
  from squish_tf.evolve import offspring
  out = {0: cfg.epochs}
  for r in records[1:]:
    trained = r.get("population", cfg.population) * (1 + r.get("milder_retries", 0))
    spent = r.get("offspring_epochs", trained * offspring.planned_epochs(cfg))
    out[r["generation"]] = out[r["generation"] - 1] + spent
  return out


def seed_run(plan: Plan, seed: int, evolve: bool) -> SeedRun:
  """Runs (or resumes, or only reads) one seed's evolution."""
  from squish_tf.errors import UserError
  from squish_tf.evolve import executors, loop
  from squish_tf.report import table2
  from squish_tf.rundir import RunDir
  cfg = evolve_config(plan, seed)
  root = os.path.join(plan.workdir, f"seed_{seed}")
  run_dir = os.path.join(root, "evolution")
  if evolve:
    resume = os.path.exists(os.path.join(run_dir, "config.json"))
    with executors.make_executor(plan.executor) as executor:
      records = loop.run(cfg, run_dir, resume=resume, executor=executor)
  else:
    records = RunDir(run_dir).records()
    if not records:
      raise UserError(f"{run_dir} holds no evolution; run pareto.py without --measure_only")
  named = table2.name_squishednets(records, plan.max_drop, plan.max_models)
  return SeedRun(seed, cfg, root, records, named, budgets(cfg, records), plan.match)


# --- Pieces: one trained network each, saved whole or redone -------------------------------

def finished(directory: str, matched: dict) -> dict | None:
  """figures.json of the piece in `directory` if it was made for `matched`."""
  from squish_tf import files
  path = os.path.join(directory, "figures.json")
  if os.path.exists(path):
    done = files.read_json(path)
    if done.get("matched") == matched:
      return done
  return None


def piece(directory: str, matched: dict, make, create: bool) -> dict | None:
  """figures.json of a finished piece made for `matched`, else made now by `make(directory)`
  (or None when `create` is False). figures.json is written last: a crash loses one piece."""
  from squish_tf import files
  done = finished(directory, matched)
  if done is not None:
    return done
  if not create:
    logging.warning("%s: not made (or made for other settings); left out", directory)
    return None
  shutil.rmtree(directory, ignore_errors=True)
  os.makedirs(directory)
  start = time.perf_counter()
  figures = make(directory)
  figures.update(matched=matched, seconds=round(time.perf_counter() - start, 1))
  files.write_json(os.path.join(directory, "figures.json"), figures)
  return figures


def make_piece(plan: Plan, seed: int, method: str, index) -> dict:
  """Makes piece `index` of `method` for `seed` and returns its figures (seed_points runs this
  in a process of its own): the seed's run is read again from its directory, the piece found
  by its index."""
  import tensorflow as tf
  tf.config.experimental.enable_op_determinism()  # as `run` does
  run_ = seed_run(plan, seed, evolve=False)
  for i, _, matched, make in PIECES[method](run_, plan):
    if i == index:
      return piece(os.path.join(run_.root, f"{method}_{index}"), matched, make, create=True)
  raise LookupError(f"seed {seed}: {method} has no piece {index!r}")


def peer_seed(seed: int, method: str, index) -> int:
  """A seed per (run seed, method, piece) for initializers, dropout and shuffling."""
  words = [seed, zlib.crc32(method.encode()), zlib.crc32(str(index).encode())]
  return int(np.random.SeedSequence(words).generate_state(1)[0]) & 0x7FFFFFFF


def fit(net, run: SeedRun, epochs: int, seed: int, finetune: bool, teacher=None) -> float:
  """Trains like the evolution: its batch size, learning rate and cosine schedule; its
  augmentation; warmup only for fine-tuning, as offspring get it; distillation from
  `teacher` (the network it was pruned from, as an offspring's parent) when the evolution
  distils. Returns seconds."""
  from squish_tf import train
  cfg = run.cfg
  options = {"augment_pixels": getattr(cfg, "augment_pixels", 0)}
  if finetune:
    options["warmup_epochs"] = getattr(cfg, "warmup_epochs", 0.0)
  if teacher is not None and distils(run):
    options.update(teacher=teacher, distill=cfg.distill, temperature=cfg.distill_temperature)
  start = time.perf_counter()
  train.fit(net, run.data["splits"], epochs, cfg.batch_size, cfg.learning_rate, seed,
            verbose=0, validate_each_epoch=False, **options)
  return round(time.perf_counter() - start, 1)


def distils(run: SeedRun) -> bool:
  """Whether the evolution's offspring distil from their parents (so pruned baselines do)."""
  return getattr(run.cfg, "distill", 0.0) > 0


def distillation(run: SeedRun) -> dict:
  """What a pruned baseline's matched settings record of distillation: nothing when the
  evolution does not distil (so pieces made before distillation existed stay valid)."""
  if not distils(run):
    return {}
  return {"distill": run.cfg.distill, "distill_temperature": run.cfg.distill_temperature}


def file_figures(float_path: str, int8_path: str | None, test) -> dict:
  """Test top-1 through LiteRT and sizes (raw, gzipped) of a float32 and an int8 file."""
  from squish_tf import files
  from squish_tf.export import runtime
  out = {"top1_test": round(runtime.top1(float_path, *test), 5), "top1_test_int8": None,
         "int8_bytes": None, "int8_gzip_bytes": None}
  out.update({f"float_{k}": v for k, v in files.sizes(float_path).items()})
  if int8_path:
    out["top1_test_int8"] = round(runtime.top1(int8_path, *test), 5)
    out.update({f"int8_{k}": v for k, v in files.sizes(int8_path).items()})
  return out


def save_keras(net, directory: str, run: SeedRun) -> dict:
  """model.keras, a verified float32 and int8 .tflite; validation and test figures."""
  from squish_tf import files
  from squish_tf.export import int8, litert
  val_x, val_y = run.data["val"]
  with files.atomic_path(os.path.join(directory, "model.keras")) as tmp:
    net.save(tmp)
  float_path = os.path.join(directory, "model.tflite")
  litert.export_verified(net, val_x[:VERIFY_IMAGES], float_path)
  int8_path = os.path.join(directory, "model_int8.tflite")
  _, refused = int8.export_int8_or_refusal(net, run.data["representative"], val_x, val_y,
                                           int8_path, run.cfg.int8_granularity)
  int8_path = None if refused else int8_path
  nonzero = int(sum(np.count_nonzero(w) for w in net.get_weights()))
  return {"top1_val": val_top1(net, run),
          "params_total": int(net.count_params()), "params_nonzero": nonzero,
          "int8_refused": refused, **file_figures(float_path, int8_path, run.data["test"])}


def val_top1(net, run: SeedRun) -> float:
  """Keras validation top-1, compiled (predict): eager calls cost MobileNet several times more."""
  from squish_tf.export import verify
  val_x, val_y = run.data["val"]
  return round(verify.top1(net.predict(val_x, batch_size=256, verbose=0), val_y), 5)


def _macs(spec: dict, run: SeedRun) -> int:
  from squish_tf.net import arch
  return arch.macs(spec, run.cfg.image_size)


def trained_squeezenet(run: SeedRun, spec: dict, epochs: int, seed: int, squished=None,
                       teacher=None):
  """(network, train seconds): SqueezeNet `spec` trained `epochs` from scratch, or fine-tuned
  from a `squished` network with its masks held while it trains (distilling from `teacher`,
  the network it was pruned from, when the evolution distils)."""
  import keras
  from squish_tf.evolve import masking
  from squish_tf.net import arch
  from squish_tf.net import model as model_lib
  keras.utils.set_random_seed(seed)
  net = model_lib.squeezenet(spec, spec[arch.HEAD], image_size=run.cfg.image_size, seed=seed,
                             head_activation=run.head_activation)
  if squished is not None:
    model_lib.set_weights(net, squished.weights)
    masking.apply_masks(net, squished.masks)
  seconds = fit(net, run, epochs, seed, finetune=squished is not None, teacher=teacher)
  if squished is not None:
    masking.strip_masks(net)
  return net, seconds


def squeezenet_piece(directory: str, run: SeedRun, spec: dict, epochs: int, seed: int,
                     squished=None, extra: dict | None = None, teacher=None) -> dict:
  """`trained_squeezenet`, saved with its files and figures."""
  net, seconds = trained_squeezenet(run, spec, epochs, seed, squished, teacher)
  return {"spec": spec, "macs": _macs(spec, run), "epochs": epochs, "train_seconds": seconds,
          **(extra or {}), **save_keras(net, directory, run)}


def l1_iterative_piece(directory: str, run: SeedRun, targets: list, epochs: list,
                       distilled: list, seed: int, extra: dict | None = None) -> dict:
  """Prunes to each target in turn (L1, through surgery), fine-tuning after each step; step i
  distils from the network before it when the evolution distils and `distilled[i]` says so
  (`distilled_steps`)."""
  from squish_tf.evolve import genome
  from squish_tf.net import model as model_lib
  net, steps, seconds = run.ancestor, [], 0.0
  masks = genome.full_masks(model_lib.get_weights(net))
  for target, step_epochs, distil in zip(targets, epochs, distilled):
    squished, fraction = peers.l1_prune_to(model_lib.spec_of(net), model_lib.get_weights(net),
                                           masks, target, run.head_activation)
    net, step_seconds = trained_squeezenet(run, squished.spec, step_epochs, seed, squished,
                                           teacher=net if distil else None)
    masks, seconds = squished.masks, seconds + step_seconds
    steps.append({"params_target": target, "fraction": round(fraction, 5)})
  return {"spec": squished.spec, "macs": _macs(squished.spec, run), "epochs": sum(epochs),
          "train_seconds": round(seconds, 1), "steps": steps, **(extra or {}),
          **save_keras(net, directory, run)}


# Timing one L1 candidate against the SquishedNet: 0.1 s per file in each of 10 interleaved
# rounds, so that a slow spell of the machine hits both alike.
MATCH_SECONDS, MATCH_ROUNDS = 1.0, 10
MATCH_ITERATIONS = 8  # bisection steps: the range's two ends and up to 8 candidates between
MATCH_RANGE = (0.25, 2.0)  # parameter targets searched, as fractions of the SquishedNet's


def timed_match(directory: str, run: SeedRun, gen: int, network_of, span, digits=None) -> dict:
  """The x in `span` at which `network_of(x)` (a Keras network; latency depends on its filter
  counts alone, so it need not be trained) runs as fast as generation `gen`'s float32 file
  (p50, batch 1, 1 thread, the release size): bisection, each candidate's file timed side by
  side with gen's, x rounded to `digits` (None: an integer); the candidate file is deleted
  afterwards. Returns {"x", "latency_ratio", "timed": {x: candidate / gen's p50}}."""
  from squish_tf import files
  from squish_tf.bench import litert_bench
  from squish_tf.export import litert
  from squish_tf.rundir import RunDir
  reference = RunDir(run.evolution_dir).gen_file(gen, "model.tflite")
  candidate = os.path.join(directory, "candidate.tflite")
  timed = {}

  def ratio(x: float) -> float:
    x = round(x, digits)
    files.write_bytes(candidate, litert.to_tflite(network_of(x)))
    ref, cand = litert_bench.benchmark([reference, candidate], image_size=run.cfg.image_size,
                                       threads=1, batch_sizes=(1,), seconds=MATCH_SECONDS,
                                       rounds=MATCH_ROUNDS)
    timed[x] = round(cand["latency_ms_p50"] / ref["latency_ms_p50"], 4)
    return timed[x]

  x = round(peers.closest(ratio, 1.0, *span, iterations=MATCH_ITERATIONS), digits)
  os.remove(candidate)
  return {"x": x, "latency_ratio": timed[x],
          "timed": {str(k): v for k, v in sorted(timed.items())}}


def latency_matched_target(directory: str, run: SeedRun, gen: int, span: list) -> dict:
  """The parameter target at which the ancestor, L1-pruned, runs as fast as generation
  `gen` (`timed_match` over the targets in `span`, `match_range`). Each candidate is the
  ancestor pruned in the same `gen` steps without training between them (one step would keep
  other counts: peers.l1_prune_in_steps)."""
  from squish_tf.evolve import genome
  from squish_tf.net import arch
  from squish_tf.net import model as model_lib
  spec, weights = model_lib.spec_of(run.ancestor), model_lib.get_weights(run.ancestor)
  masks = genome.full_masks(weights)

  def network_of(target: int):
    squished = peers.l1_prune_in_steps(spec, weights, masks, l1_targets(run, target, gen),
                                       run.head_activation)
    net = model_lib.squeezenet(squished.spec, squished.spec[arch.HEAD],
                               image_size=run.cfg.image_size,
                               head_activation=run.head_activation)
    model_lib.set_weights(net, squished.weights)
    return net

  match = timed_match(directory, run, gen, network_of, span)
  return {"params_target": match.pop("x"), **match}


def match_range(run: SeedRun, gen: int) -> tuple[int, int]:
  """The parameter targets the latency search spans: a quarter to twice the generation's
  (never more than the ancestor's). Above its size too: iterative L1 with fewer MACs can be
  the faster network at the same size, and then matches the latency with more parameters."""
  params = run.records[gen]["params_total"]
  return round(params * MATCH_RANGE[0]), min(round(params * MATCH_RANGE[1]),
                                             run.records[0]["params_total"])


def tfmot_piece(directory: str, run: SeedRun, sparsities: list, epochs: int) -> dict:
  """tfmot pruning in the legacy-Keras worker; its dense file's gzipped size is its size."""
  from squish_tf.net import model as model_lib
  cfg = {k: getattr(run.cfg, k) for k in ("dataset", "data_dir", "seed", "batch_size",
                                           "learning_rate")}
  start = time.perf_counter()
  out = peers.run_tfmot(run.ancestor, cfg, sparsities, epochs, directory, run.cfg.image_size,
                        run.data["val"][0][:32])
  seconds = round(time.perf_counter() - start, 1)
  # The worker also writes the same file converted at the "benchmark" size: here, ours.
  os.remove(os.path.join(directory, f"model_{run.cfg.image_size}.tflite"))
  spec = model_lib.spec_of(run.ancestor)
  return {"spec": spec, "macs": _macs(spec, run), "epochs": epochs, "train_seconds": seconds,
          "top1_val": out["top1_val_keras"], "params_total": out["params_total"],
          "params_nonzero": out["params_nonzero"], "kernel_sparsity": out["kernel_sparsity"],
          "int8_refused": "not measured: the worker converts float32 only",
          **file_figures(os.path.join(directory, "model.tflite"), None, run.data["test"])}


def mobilenet_piece(directory: str, run: SeedRun, variant: str, seed: int) -> dict:
  """MobileNetV3-Small from scratch for the ancestor's epochs; batch norms recalibrated."""
  import keras
  alpha, minimalistic = peers.MOBILENET_VARIANTS[variant]
  keras.utils.set_random_seed(seed)
  net = peers.mobilenet_v3_small(run.cfg.image_size, run.data["splits"].num_classes, alpha,
                                 minimalistic)
  seconds = fit(net, run, run.cfg.epochs, seed, finetune=False)
  before = val_top1(net, run)
  peers.recalibrate_batch_norm(net, run.data["splits"].train, run.cfg.batch_size)
  return {"macs": peers.keras_macs(net), "epochs": run.cfg.epochs, "train_seconds": seconds,
          "top1_val_before_bn_recalibration": before,
          **save_keras(net, directory, run)}


# --- The methods: which pieces each one makes for a seed -----------------------------------

def scratch_pieces(run: SeedRun, plan: Plan):
  for k, gen in run.matched():
    spec = run.records[gen]["spec"]
    matched = {"generation": gen, "spec": spec, "epochs": run.budgets[gen]}
    yield k, gen, matched, functools.partial(
        squeezenet_piece, run=run, spec=spec, epochs=run.budgets[gen],
        seed=peer_seed(run.seed, "scratch", k))


def width_pieces(run: SeedRun, plan: Plan):
  for k, gen in run.matched():
    target = run.records[gen]["params_total"]
    spec, alpha = peers.matched_width(target, run.records[0]["spec"]["conv10"])
    matched = {"generation": gen, "params_target": target, "epochs": run.budgets[gen]}
    yield k, gen, matched, functools.partial(
        squeezenet_piece, run=run, spec=spec, epochs=run.budgets[gen],
        seed=peer_seed(run.seed, "width", k), extra={"alpha": round(alpha, 5)})


def width_latency_pieces(run: SeedRun, plan: Plan):
  """Uniform width matched to the SquishedNet's latency instead of its size: the comparison
  on the latency front at equal latency, as `width` is on the size front at equal size.
  Searched from half the size-matched width (narrower is faster) to the ancestor's."""
  for k, gen in run.matched():
    _, alpha = peers.matched_width(run.records[gen]["params_total"],
                                   run.records[0]["spec"]["conv10"])
    span = [round(alpha / 2, 4), 1.0]
    matched = {"generation": gen, "latency_of": f"evolution gen {gen}",
               "epochs": run.budgets[gen], "alpha_range": span}
    yield k, gen, matched, functools.partial(_width_latency, run=run, gen=gen, span=span,
                                             epochs=run.budgets[gen],
                                             seed=peer_seed(run.seed, "width_latency", k))


def _width_latency(directory: str, run: SeedRun, gen: int, span: list, epochs: int,
                   seed: int) -> dict:
  """The width (alpha in `span`, 4 digits) at which SqueezeNet v1.1 runs as fast as
  generation `gen` (`timed_match`), trained as `width` is."""
  from squish_tf.net import model as model_lib
  classes = run.records[0]["spec"]["conv10"]

  def network_of(alpha: float):
    return model_lib.squeezenet(peers.width_spec(alpha, classes), classes,
                                image_size=run.cfg.image_size,
                                head_activation=run.head_activation)

  match = timed_match(directory, run, gen, network_of, span, digits=4)
  match = {"alpha": match.pop("x"), **match}
  logging.info("seed %d: width matched to gen %d's latency at alpha %s (%s)", run.seed, gen,
               match["alpha"], match["timed"])
  return squeezenet_piece(directory, run, peers.width_spec(match["alpha"], classes), epochs,
                          seed, extra={"alpha": match["alpha"], "latency_match": match})


def l1_oneshot_pieces(run: SeedRun, plan: Plan):
  for k, gen in run.matched():
    target, epochs = run.records[gen]["params_total"], run.budgets[gen] - run.budgets[0]
    matched = {"generation": gen, "params_target": target, "epochs": epochs,
               **distillation(run)}
    yield k, gen, matched, functools.partial(_l1_oneshot, run=run, target=target, epochs=epochs,
                                             seed=peer_seed(run.seed, "l1_oneshot", k))


def _l1_oneshot(directory: str, run: SeedRun, target: int, epochs: int, seed: int) -> dict:
  from squish_tf.evolve import genome
  from squish_tf.net import model as model_lib
  spec, weights = model_lib.spec_of(run.ancestor), model_lib.get_weights(run.ancestor)
  squished, fraction = peers.l1_prune_to(spec, weights, genome.full_masks(weights), target,
                                         run.head_activation)
  return squeezenet_piece(directory, run, squished.spec, epochs, seed, squished,
                          {"fraction": round(fraction, 5), "params_target": target},
                          teacher=run.ancestor)


def l1_targets(run: SeedRun, end_params: int, gen: int) -> list[int]:
  """Iterative pruning's parameter targets: from the ancestor to `end_params` in `gen` steps."""
  return peers.iterative_targets(run.records[0]["params_total"], end_params, gen)


def step_epochs(run: SeedRun, gen: int) -> list[int]:
  """Iterative pruning's fine-tuning after each of `gen` steps: what generation i spent."""
  return [run.budgets[i] - run.budgets[i - 1] for i in range(1, gen + 1)]


def distilled_steps(run: SeedRun, gen: int) -> list[bool]:
  """Which of iterative pruning's `gen` steps distil, as generation i did: all but a polish
  (the evolution's last network trained on, which has no other parent than itself)."""
  return [not run.records[i].get("polish", False) for i in range(1, gen + 1)]


def step_distillation(run: SeedRun, gen: int) -> dict:
  """`distillation`, plus which steps distil, for the matched settings of iterative L1."""
  if not distils(run):
    return {}
  return {**distillation(run), "distilled_steps": distilled_steps(run, gen)}


def l1_iterative_pieces(run: SeedRun, plan: Plan):
  for k, gen in run.matched():
    targets = l1_targets(run, run.records[gen]["params_total"], gen)
    epochs = step_epochs(run, gen)
    matched = {"generation": gen, "params_targets": targets, "epochs": epochs,
               **step_distillation(run, gen)}
    yield k, gen, matched, functools.partial(l1_iterative_piece, run=run, targets=targets,
                                             epochs=epochs,
                                             distilled=distilled_steps(run, gen),
                                             seed=peer_seed(run.seed, "l1_iterative", k))


def l1_latency_pieces(run: SeedRun, plan: Plan):
  for k, gen in run.matched():
    epochs, span = step_epochs(run, gen), list(match_range(run, gen))
    matched = {"generation": gen, "latency_of": f"evolution gen {gen}", "epochs": epochs,
               "params_range": span, **step_distillation(run, gen)}
    yield k, gen, matched, functools.partial(_l1_latency, run=run, gen=gen, epochs=epochs,
                                             span=span,
                                             seed=peer_seed(run.seed, "l1_latency", k))


def _l1_latency(directory: str, run: SeedRun, gen: int, epochs: list, span: list,
                seed: int) -> dict:
  match = latency_matched_target(directory, run, gen, span)
  logging.info("seed %d: L1 matched to gen %d's latency at %d parameters (%s)", run.seed, gen,
               match["params_target"], match["timed"])
  return l1_iterative_piece(directory, run, l1_targets(run, match["params_target"], gen), epochs,
                            distilled_steps(run, gen), seed, {"latency_match": match})


def tfmot_pieces(run: SeedRun, plan: Plan):
  """The smallest SquishedNet only: tfmot trains the dense ancestor, the costliest baseline.
  One stage per generation, each to that generation's share of dead parameters."""
  if not run.named:
    return
  k, gen = min(run.matched(), key=lambda m: run.records[m[1]]["params_total"])
  sparsities = [round(1.0 - run.records[g]["params_alive"] / run.records[0]["params_total"], 5)
                for g in range(1, gen + 1)]
  epochs = run.budgets[gen] - run.budgets[0]
  matched = {"generation": gen, "sparsities": sparsities, "epochs": epochs}
  yield k, gen, matched, functools.partial(tfmot_piece, run=run, sparsities=sparsities,
                                           epochs=epochs)


def mobilenet_pieces(run: SeedRun, plan: Plan):
  for variant in plan.mobilenet:
    matched = {"variant": variant, "epochs": run.cfg.epochs}
    yield variant, None, matched, functools.partial(
        mobilenet_piece, run=run, variant=variant, seed=peer_seed(run.seed, "mobilenet", variant))


PIECES = {"scratch": scratch_pieces, "width": width_pieces,
          "width_latency": width_latency_pieces, "l1_oneshot": l1_oneshot_pieces,
          "l1_iterative": l1_iterative_pieces, "l1_latency": l1_latency_pieces,
          "tfmot": tfmot_pieces, "mobilenet": mobilenet_pieces}


# --- Points: one per (seed, method, index) -------------------------------------------------

def evolution_points(run: SeedRun, workdir: str) -> list[dict]:
  """Every generation, from its records and files (the loop measured top-1 as we do)."""
  from squish_tf import files
  from squish_tf.rundir import RunDir
  points = []
  for r in run.records:
    g = r["generation"]
    float_path = RunDir(run.evolution_dir).gen_file(g, "model.tflite")
    int8_path = RunDir(run.evolution_dir).gen_file(g, "model_int8.tflite")
    has_int8 = os.path.exists(int8_path)
    point = {"method": "evolution", "index": g, "seed": run.seed, "generation": g,
             "budget_epochs": run.budgets[g], "params_total": r["params_total"],
             "params_nonzero": r["params_alive"], "macs": _macs(r["spec"], run),
             "top1_val": r["top1_val"], "top1_test": r["top1_tflite"],
             "top1_test_int8": r.get("top1_tflite_int8") if has_int8 else None,
             "float_path": os.path.relpath(float_path, workdir),
             "int8_path": os.path.relpath(int8_path, workdir) if has_int8 else None,
             "squishednet": next((n["name"] for n in run.named if n["generation"] == g), None),
             "details": {k: r.get(k) for k in ("wall_seconds", "train_seconds")}}
    point.update({f"float_{k}": v for k, v in files.sizes(float_path).items()})
    sizes = files.sizes(int8_path) if has_int8 else {"bytes": None, "gzip_bytes": None}
    point.update({f"int8_{k}": v for k, v in sizes.items()})
    points.append(point)
  return points


def peer_point(method: str, index, gen, run: SeedRun, directory: str, figures: dict,
               workdir: str) -> dict:
  int8_path = os.path.join(directory, "model_int8.tflite")
  keep = {k: figures.get(k) for k in FIGURES if k in figures}
  return {"method": method, "index": index, "seed": run.seed, "generation": gen,
          "budget_epochs": figures["epochs"], **keep,
          "float_path": os.path.relpath(os.path.join(directory, "model.tflite"), workdir),
          "int8_path": (os.path.relpath(int8_path, workdir) if figures["int8_bytes"] else None),
          "details": {k: figures[k] for k in ("spec", "alpha", "fraction", "steps",
                                              "kernel_sparsity", "int8_refused", "seconds",
                                              "latency_match", "train_seconds",
                                              "top1_val_before_bn_recalibration")
                      if k in figures}}


def seed_points(plan: Plan, run: SeedRun, create: bool, clock: dict) -> list[dict]:
  """The points of one seed; with `create`, making every missing piece, each in a process of
  its own."""
  import concurrent.futures
  from squish_tf.errors import UserError
  from squish_tf.evolve import executors
  points = evolution_points(run, plan.workdir) if "evolution" in plan.methods else []
  for method in plan.methods:
    if method == "evolution":
      continue
    start = time.perf_counter()
    for index, gen, matched, make in PIECES[method](run, plan):
      directory = os.path.join(run.root, f"{method}_{index}")
      if create and finished(directory, matched) is None:
        logging.info("seed %d: %s %s (%s)", run.seed, method, index, matched.get("epochs"))
        # TensorFlow keeps memory behind every network trained in a process (ProcessExecutor):
        # a process per piece returns it, where one per seed grew to 9 GB
        try:
          figures = executors.in_fresh_process(make_piece, plan, run.seed, method, index)
        except concurrent.futures.process.BrokenProcessPool as error:
          raise UserError(f"seed {run.seed}: the process making {method} {index} died "
                          f"({error}); the finished pieces are kept, so the same command "
                          f"resumes") from error
      else:
        figures = piece(directory, matched, make, create=False)  # finished, or left out
      if figures is not None:
        points.append(peer_point(method, index, gen, run, directory, figures, plan.workdir))
    clock[method] = clock.get(method, 0.0) + time.perf_counter() - start
  for p in points:
    p["size_bytes"] = counted_size(p)
  return points


def counted_size(point: dict) -> int:
  """The bytes a point's size is: its float32 file's, or gzipped for tfmot, whose file is
  dense (its zeros are only saved by compression)."""
  return point["float_gzip_bytes"] if point["method"] == "tfmot" else point["float_bytes"]


# --- Latency: every file of every seed, side by side in one process ------------------------

def measure_latency(points: list[dict], workdir: str, image_size: int, seconds: float,
                    rounds: int) -> dict:
  """Batch-1 latency percentiles of every file on 1 thread and on all cores; updates points."""
  from squish_tf.bench import litert_bench
  paths = sorted({p[k] for p in points for k in ("float_path", "int8_path") if p.get(k)})
  threads = {"t1": 1, "tall": os.cpu_count()}
  by_path = {path: {} for path in paths}
  for tag, count in threads.items():
    logging.info("timing %d files at batch 1 on %d thread(s)", len(paths), count)
    measured = litert_bench.benchmark([os.path.join(workdir, p) for p in paths],
                                      image_size=image_size, threads=count, batch_sizes=(1,),
                                      seconds=seconds, rounds=rounds)
    for path, r in zip(paths, measured):
      by_path[path].update({f"p{q}_{tag}": r[f"latency_ms_p{q}"] for q in (10, 50, 90)})
  for p in points:
    for prec in ("float", "int8"):
      figures = by_path.get(p.get(f"{prec}_path"), {})
      for tag in threads:
        for q in (10, 50, 90):
          p[f"latency_ms_p{q}_{prec}_{tag}"] = figures.get(f"p{q}_{tag}")
  return {"threads": threads, "files": len(paths), "seconds_per_file": seconds,
          "rounds": rounds, "batch": 1, "image_size": image_size}


def add_ratios(points: list[dict]) -> None:
  """Each point's size and latency as a ratio to the ancestor (generation 0) of its seed."""
  ancestors = {p["seed"]: p for p in points if p["method"] == "evolution" and p["index"] == 0}
  for p in points:
    ref = ancestors.get(p["seed"])
    for name, (key, ref_key) in RATIOS.items():
      ok = ref is not None and p.get(key) is not None and ref.get(ref_key)
      p[name] = round(p[key] / ref[ref_key], 4) if ok else None


# --- The whole benchmark -------------------------------------------------------------------

def run(plan: Plan, measure_only: bool = False, clock: dict | None = None,
        start: float | None = None) -> dict:
  """Evolves and trains what is missing (unless `measure_only`), times every file, and
  writes the results; returns them. run_seeds passes the stages it spent (`clock`) and when
  it began (`start`, time.perf_counter)."""
  import tensorflow as tf
  clock = dict(clock or {})
  start = time.perf_counter() if start is None else start
  check_workdir(plan)
  # Deterministic kernels for every network (the evolution turns them on too), so that a
  # piece trained after a restart is the piece an uninterrupted run trains.
  tf.config.experimental.enable_op_determinism()
  points, runs = [], []
  # a measure-only pass makes nothing, so its stages would read 0 min (run_seeds' children
  # spent them): only the latency is its own
  stages = {} if measure_only else clock
  for seed in plan.seeds:
    t0 = time.perf_counter()
    run_ = seed_run(plan, seed, evolve=not measure_only)
    stages["evolution"] = stages.get("evolution", 0.0) + time.perf_counter() - t0
    points += seed_points(plan, run_, not measure_only, stages)
    sizes = dict(run_.data["splits"].sizes)
    for cached in ("data", "ancestor"):  # the next seed brings its own
      run_.__dict__.pop(cached, None)
    runs.append(run_)
  t0 = time.perf_counter()
  latency = measure_latency(points, plan.workdir, plan.image_size, plan.bench_seconds,
                            plan.bench_rounds)
  clock["latency"] = time.perf_counter() - t0
  add_ratios(points)
  result = {"name": plan.name, "command": plan.command, **describe_run(plan, runs),
            "split_sizes": sizes, "latency": latency, "points": points,
            "aggregates": aggregate(points, plan.methods, plan.match),
            "stage_seconds": {k: round(v, 1) for k, v in clock.items()},
            "wall_seconds": round(time.perf_counter() - start, 1)}
  write_outputs(result, plan.results_dir)
  return result


def run_seeds(plan: Plan, argv: list[str], jobs: int) -> dict:
  """Each seed's evolution and peers in its own process, `jobs` at a time (the 2 cores are
  shared better than by one process training small networks); the parent then times every
  file side by side (`run`, measure_only). A child's output is in WORKDIR/logs/seed_N.log;
  one that fails is named, and running the command again resumes every seed."""
  import subprocess
  from squish_tf.errors import UserError
  check_workdir(plan)
  logs = os.path.join(plan.workdir, "logs")
  os.makedirs(logs, exist_ok=True)
  start, waiting, running, failed = time.perf_counter(), list(plan.seeds), [], []
  while waiting or running:
    while waiting and len(running) < jobs:
      seed = waiting.pop(0)
      log = os.path.join(logs, f"seed_{seed}.log")
      # absl keeps the last value of a repeated flag: these override the parent's. The
      # child's own timing is a token one: the parent times every file side by side.
      cmd = [sys.executable, os.path.abspath(__file__), *argv[1:], f"--seeds={seed}",
             "--jobs=1", f"--workdir={plan.workdir}", f"--bench_seconds={CHILD_SECONDS}",
             "--bench_rounds=1",
             f"--results_dir={os.path.join(logs, f'seed_{seed}')}"]
      with open(log, "w", encoding="utf-8") as out:
        running.append((seed, log, subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)))
      logging.info("seed %d: its own process, output in %s", seed, log)
    time.sleep(5)
    for seed, log, proc in list(running):
      if proc.poll() is not None:
        running.remove((seed, log, proc))
        if proc.returncode:
          failed.append(f"seed {seed} (exit {proc.returncode}, see {log})")
  if failed:
    raise UserError(f"{'; '.join(failed)} failed; the finished pieces are kept, so the same "
                    f"command resumes")
  return run(plan, measure_only=True, clock={"seeds": time.perf_counter() - start}, start=start)


def describe_run(plan: Plan, runs: list[SeedRun]) -> dict:
  """The settings, the SquishedNets each seed's baselines were matched to, and notes."""
  from squish_tf import config
  evolve = config.to_dict(runs[0].cfg)
  del evolve["seed"]
  return {
      "config": {"dataset": plan.dataset, "image_size": plan.image_size,
                 "seeds": list(plan.seeds), "methods": list(plan.methods), "tag": plan.tag,
                 "overrides": plan.overrides, "evolve_config": evolve,
                 "mobilenet": list(plan.mobilenet), "max_drop": plan.max_drop,
                 "max_models": plan.max_models, "match": plan.match, "quick": plan.quick,
                 "workdir": plan.workdir},
      "squishednets": {r.seed: [{**n, "budget_epochs": r.budgets[n["generation"]],
                                 "params_total": r.records[n["generation"]]["params_total"]}
                                for n in r.named
                                if n["generation"] in {g for _, g in r.matched()}]
                       for r in runs},
      "notes": {"tfmot_int8": "not measured: tfmot's worker (squish_tf.legacy.prune_worker) "
                              "writes only float32 files, and its weights stay in the legacy-"
                              "Keras process",
                "budget": "epochs over the same training split; B_g = E + every epoch "
                          "the evolution's offspring trained in generations 1..g (retries, "
                          "recovery and polish epochs included)"},
  }


def define_flags() -> None:
  """The command line; defined only when run as a script (importing defines nothing)."""
  flags.DEFINE_string("workdir", None, "Runs and trained peers; runs/pareto[_quick][_TAG] if "
                      "unset.")
  flags.DEFINE_string("results_dir", results.RESULTS_DIR, "Where the results files go.")
  flags.DEFINE_string("tag", "default", "Name of the evolution variant (--evolve): its own work "
                      "directory and results files pareto_TAG.*.")
  flags.DEFINE_string("dataset", "fashion_mnist:200", "Data set (with :N training images a class).")
  flags.DEFINE_integer("image_size", 32, "The release input size: training and timing.")
  flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds: one evolution and one set of peers each.")
  flags.DEFINE_list("methods", list(METHODS), "Which of " + ", ".join(METHODS) + ".")
  flags.DEFINE_list("evolve", list(BUDGET), "EvolveConfig fields to override, key=value "
                    "(e.g. r_clu=0.9); the default shortens training to fit 3 hours on 2 cores.")
  flags.DEFINE_list("mobilenet", list(peers.MOBILENET_VARIANTS), "MobileNetV3-Small variants.")
  flags.DEFINE_float("max_drop", 0.02, "SquishedNets: validation top-1 within this of the "
                     "ancestor.")
  flags.DEFINE_integer("max_models", 2, "SquishedNets named per seed, at most.")
  flags.DEFINE_enum("match", "smallest", ["smallest", "all"], "Baselines matched to each seed's "
                    "smallest SquishedNet (fits 3 hours on 2 cores), or to every one.")
  # Many short interleaved rounds: this machine's speed shifts for seconds at a time, and a
  # file timed in 3 rounds could land in one state while its twin landed in another (files
  # of one architecture 1.49x apart at p50 with 0.3 s in 3 rounds, within 1.09x with 0.5 s
  # in 25 rounds, twice: README, "Run on to 10x").
  flags.DEFINE_float("bench_seconds", 0.5, "Timing seconds per file and thread count, split over "
                     "--bench_rounds (the evolution's own per-generation timing is "
                     "--evolve=bench_seconds=S).")
  flags.DEFINE_integer("bench_rounds", 25, "Interleaved timing rounds.")
  flags.DEFINE_bool("quick", False, "1 seed, fashion_mnist:100, 3 generations of 1 epoch on a "
                    "3-epoch ancestor, no accuracy floor, 2 SquishedNets, MobileNetV3-Small "
                    "1.0 only, short timing: minutes; figures mean nothing.")
  flags.DEFINE_integer("jobs", 3, "Seeds trained at once, each in its own process (1: one "
                       "after another in this one); every file is then timed here, side by "
                       "side.", lower_bound=1)
  flags.DEFINE_enum("executor", "process", ["process", "local"], "Where each seed's offspring "
                    "train: a recycled child process, which returns the memory TensorFlow keeps "
                    "behind every network (long runs), or the seed's own process (toy runs).")
  flags.DEFINE_bool("measure_only", False, "Only time the files again and rewrite the outputs.")
  flags.DEFINE_bool("replot", False, "Only rewrite the .md and .png from the results .json.")


def plan_from_flags(argv: list[str]) -> Plan:
  from squish_tf.errors import UserError
  FLAGS = flags.FLAGS

  def value(name):  # --quick's setting, unless the flag is given too
    return QUICK[name] if FLAGS.quick and name in QUICK and not FLAGS[name].present \
        else FLAGS[name].value

  try:
    seeds = tuple(int(s) for s in value("seeds"))
  except ValueError:
    raise UserError(f"--seeds must be integers, got {','.join(value('seeds'))}") from None
  unknown = sorted(set(FLAGS.methods) - set(METHODS)) + sorted(
      set(value("mobilenet")) - set(peers.MOBILENET_VARIANTS))
  if unknown or not FLAGS.methods or not seeds:
    raise UserError(f"--methods must name some of {', '.join(METHODS)}, --mobilenet some of "
                    f"{', '.join(peers.MOBILENET_VARIANTS)} (unknown: {unknown}), and --seeds "
                    f"at least one seed")
  evolve = [] if FLAGS.quick and not FLAGS["evolve"].present else FLAGS.evolve
  overrides = {**(QUICK_EVOLVE if FLAGS.quick else {}), **parse_overrides(evolve)}
  plan = Plan(dataset=value("dataset"), image_size=FLAGS.image_size, seeds=seeds,
              methods=tuple(m for m in METHODS if m in FLAGS.methods), overrides=overrides,
              tag=FLAGS.tag, mobilenet=tuple(value("mobilenet")), max_drop=value("max_drop"),
              max_models=value("max_models"), match=FLAGS.match,
              bench_seconds=value("bench_seconds"), bench_rounds=value("bench_rounds"),
              quick=FLAGS.quick, workdir="", results_dir=FLAGS.results_dir,
              command=shlex.join(["python", "benchmarks/pareto.py", *argv[1:]]),
              executor=FLAGS.executor)
  for seed in seeds:  # a bad --evolve value, told now rather than in each seed's log
    evolve_config(plan, seed)
  workdir = FLAGS.workdir or os.path.join("runs", plan.name)
  return dataclasses.replace(plan, workdir=workdir)


def main(argv):
  del argv  # absl keeps only what is not a flag; the command line is recorded whole
  FLAGS = flags.FLAGS
  plan = plan_from_flags(sys.argv)
  from squish_tf.cli import common
  common.start_tensorflow()  # after the flags are checked: a mistake is told at once
  if FLAGS.replot:
    replot(plan.results_dir, plan.name)
  elif FLAGS.jobs > 1 and len(plan.seeds) > 1 and not FLAGS.measure_only:
    if {"l1_latency", "width_latency"} & set(plan.methods):
      logging.warning("l1_latency and width_latency time their candidates while the other "
                      "seeds train: their match to the SquishedNet's latency is noisier than "
                      "with --jobs=1")
    run_seeds(plan, sys.argv, FLAGS.jobs)
  else:
    run(plan, measure_only=FLAGS.measure_only)
  print(open(os.path.join(plan.results_dir, f"{plan.name}.md"), encoding="utf-8").read())


if __name__ == "__main__":
  from squish_tf.cli import common
  define_flags()
  common.run(main)  # quiet library logs; a UserError prints one line and exits 2

"""SquishedNets against the tools a user would pick instead, on the run's own data, in one run.

  python benchmarks/compare_peers.py --workdir=runs/goals

Takes a finished `squish-evolve` run and, on the same data and splits (the run's
config.json: dataset, image_size, data_dir, seed) with the same training budget (the
ancestor's epochs, batch size and learning rate, through squish_tf.train.fit):
- the ancestor (gen_000), float32 and post-training int8;
- tfmot `prune_low_magnitude` on the ancestor, in one stage per generation of the run up to
  the smallest SquishedNet: each stage prunes to that generation's share of alive
  parameters and fine-tunes as the evolution did (finetune_epochs, cosine decay restarted),
  then the wrappers are stripped and the network converted (in
  squish_tf.legacy.prune_worker: tfmot needs legacy Keras);
- MobileNetV3-Small (keras.applications, weights=None), trained from scratch;
- the SquishedNets of the run (squishednets.json), float32 and post-training int8.
Top-1 is on the test split through LiteRT, at the training size. Throughput is measured
side by side (squish_tf.bench: interleaved rounds, one process, same threads) on files
rebuilt with a 224x224 input and the same weights. Writes benchmarks/results/peers.json,
peers.md and peers.png; the .tflite files go to WORKDIR/peers/.
"""

from __future__ import annotations

import os
import sys
import time

from absl import flags

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:  # run from a checkout without installing
  sys.path.insert(0, ROOT)

import peers  # noqa: E402  (benchmarks/peers.py, beside this script)

flags.DEFINE_string("workdir", None, "A finished squish-evolve run directory.")
flags.DEFINE_string("out_dir", None, "Where the peers' .tflite files go; WORKDIR/peers if unset.")
flags.DEFINE_string("results_dir", os.path.join(HERE, "results"),
                    "Where peers.json, peers.md and peers.png go.")
flags.DEFINE_integer("bench_image_size", 224, "Input side of the throughput measurement.")
flags.DEFINE_integer("threads", None, "Interpreter threads for every model; all cores if unset.")
flags.DEFINE_float("seconds", 6.0, "Benchmark seconds per file and batch size.")
flags.DEFINE_integer("rounds", 4, "Interleaved benchmark rounds.")
flags.DEFINE_integer("prune_epochs", None,
                     "tfmot fine-tuning epochs; unset = generation of the smallest SquishedNet "
                     "x the run's finetune_epochs (what the evolution spent reaching it).")
flags.DEFINE_float("max_drop", 0.02, "Naming tolerance when the run has no squishednets.json.")
flags.DEFINE_integer("max_models", 4, "Naming limit when the run has no squishednets.json.")
flags.DEFINE_bool("quick", False, "Development mode: 1 training epoch per peer, short "
                                  "benchmark, few calibration images. Figures mean nothing.")
flags.DEFINE_bool("replot", False, "Only rewrite peers.md and peers.png from the results "
                                   "directory's peers.json (no training or measuring).")
FLAGS = flags.FLAGS

INT8_BUDGET_BYTES = 150_000  # "150 KB": SqueezeNet v1.1's 4.9 MB / 33
MAX_INT8_DROP = 0.03
EQUAL_TOP1 = 0.01  # "equal top-1" = within one point
MIN_TFMOT_RATIO = 5.0
# Howard et al. 2019 (Searching for MobileNetV3), Table 3: 56 M multiply-adds at 224x224.
MOBILENET_V3_SMALL_MADDS = 56e6
REPRESENTATIVE_IMAGES = 200


def load_run(workdir: str, max_drop: float, max_models: int):
  """(config, records by generation, named SquishedNets) of a finished run."""
  from squish_tf import files
  from squish_tf.errors import UserError
  from squish_tf.report import table2
  from squish_tf.rundir import RunDir
  if not os.path.exists(os.path.join(workdir, "config.json")):
    raise UserError(f"--workdir={workdir} holds no squish-evolve run (no config.json); run "
                    f"squish-evolve --workdir={workdir} first")
  records = {r["generation"]: r for r in RunDir(workdir).records()}
  if 0 not in records or len(records) < 2:
    raise UserError(f"{workdir} needs the ancestor and at least one generation; let "
                    f"squish-evolve --workdir={workdir} --resume finish")
  path = os.path.join(workdir, "squishednets.json")
  if os.path.exists(path):
    named = files.read_json(path)
  else:
    named = table2.name_squishednets([records[g] for g in sorted(records)], max_drop, max_models)
  if not named:
    raise UserError(f"{workdir} has no SquishedNet within --max_drop={max_drop} of the "
                    f"ancestor; run squish-report --workdir={workdir} with a larger --max_drop")
  return files.read_json(os.path.join(workdir, "config.json")), records, named


def measure_top1(rows: list[dict], test_x, test_y, threads) -> None:
  from squish_tf import files
  from squish_tf.export import litert
  for r in rows:
    r["top1"] = round(litert.top1(r["file"], test_x, test_y, threads), 5)
    r.update(files.sizes(r["file"]))


def evaluate_goals(rows: list[dict], records: dict, named: list[dict]) -> list[dict]:
  """The three int8/peer goals: met or missed, by how much, and why."""
  def row(name, precision):
    return next(r for r in rows if r["name"] == name and r["precision"] == precision)

  ancestor = row("Ancestor", "float32")
  ours = [r for r in rows if r["family"] == "squishednet"]
  smallest = min((r for r in ours if r["precision"] == "float32"), key=lambda r: r["bytes"])
  goals = []

  # 1. smallest SquishedNet in int8 <= 150 KB, within 3 points of the ancestor: either int8
  # variant counts if it passed verification against the float model.
  variants = [row(smallest["name"], p) for p in ("int8", "int8 per-tensor")]

  def passes(r):
    return (r["int8_verified"] and r["bytes"] <= INT8_BUDGET_BYTES
            and ancestor["top1"] - r["top1"] <= MAX_INT8_DROP + 1e-9)

  s8 = next((r for r in variants if passes(r)), None)
  rec = records[smallest["generation"]]

  def line(r):
    return (f"{r['precision']} {r['bytes'] / 1e3:.1f} KB, top-1 {100 * r['top1']:.1f}% "
            f"({100 * (r['top1'] - ancestor['top1']):+.1f} points"
            + ("" if r["int8_verified"] else ", failed verification") + ")")

  why = []
  for r in variants:
    if passes(r):
      continue
    reasons = []
    if r["bytes"] > INT8_BUDGET_BYTES:
      per_param = r["bytes"] / rec["params_total"]
      reasons.append(
          f"{r['bytes'] / INT8_BUDGET_BYTES:.2f}x the budget at {per_param:.2f} bytes per "
          f"parameter (int8 weights, int32 biases, a scale and zero point per "
          f"{'channel' if r['precision'] == 'int8' else 'tensor'}, graph) for "
          f"{rec['params_total']:,} parameters (masked synapses inside surviving filters are "
          f"stored as zeros), so 150 KB needs about {INT8_BUDGET_BYTES / per_param:,.0f}")
    if ancestor["top1"] - r["top1"] > MAX_INT8_DROP + 1e-9:
      reasons.append(f"int8 costs {100 * (smallest['top1'] - r['top1']):.1f} points against "
                     f"the float32 net, which squishing left "
                     f"{100 * (ancestor['top1'] - smallest['top1']):.1f} below the ancestor")
    if not r["int8_verified"]:
      reasons.append("it failed verification against the float model")
    why.append(f"{r['precision']}: " + ", ".join(reasons))
  goals.append({
      "goal": "smallest SquishedNet int8 <= 150 KB, within 3 points of the ancestor's test top-1",
      "measured": f"{smallest['name']} (ancestor {100 * ancestor['top1']:.1f}%): "
                  + "; ".join(line(r) for r in variants),
      "met": s8 is not None,
      "why": ("met by " + s8["precision"] + ("; " if why else "") if s8 else "") + "; ".join(why)})

  # 2. at equal top-1, float32 SquishedNet >= 5x smaller than tfmot's file, and smaller gzipped.
  tf_row = row("tfmot pruned ancestor", "float32")
  pool = [r for r in ours if r["precision"] == "float32"
          and r["top1"] >= tf_row["top1"] - EQUAL_TOP1 - 1e-9]
  if not pool:
    best = max((r for r in ours if r["precision"] == "float32"), key=lambda r: r["top1"])
    goals.append({"goal": "at equal top-1 (1 point), SquishedNet float32 >= 5x smaller than "
                          "tfmot's stripped .tflite and smaller than it gzipped",
                  "measured": f"no SquishedNet within 1 point of tfmot's {100 * tf_row['top1']:.1f}%"
                              f" (best {best['name']}: {100 * best['top1']:.1f}%)",
                  "met": False, "why": "tfmot's pruned ancestor is more accurate than every "
                                       "SquishedNet of this run"})
  else:
    s = min(pool, key=lambda r: r["bytes"])
    ratio = tf_row["bytes"] / s["bytes"]
    ok_ratio, ok_gz = ratio >= MIN_TFMOT_RATIO, s["bytes"] < tf_row["gzip_bytes"]
    why = []
    if not ok_ratio:
      why.append(f"tfmot's stripped file stores the dense ancestor ({tf_row['bytes'] / 1e6:.2f} MB)"
                 f"; {s['name']} keeps {s['params']:,} parameters, {ratio:.2f}x fewer bytes, and "
                 f"5x needs <= {tf_row['bytes'] / MIN_TFMOT_RATIO / 1e6:.3f} MB")
    if not ok_gz:
      why.append(f"gzip squeezes tfmot's {100 * tf_row['kernel_sparsity']:.0f}% zeros to "
                 f"{tf_row['gzip_bytes'] / 1e6:.3f} MB, below {s['name']}'s "
                 f"{s['bytes'] / 1e6:.3f} MB, whose masked synapses are stored as zeros too")
    goals.append({
        "goal": "at equal top-1 (1 point), SquishedNet float32 >= 5x smaller than tfmot's "
                "stripped .tflite and smaller than it gzipped",
        "measured": f"{s['name']} {s['bytes'] / 1e6:.3f} MB ({100 * s['top1']:.1f}%) vs tfmot "
                    f"{tf_row['bytes'] / 1e6:.3f} MB raw, {tf_row['gzip_bytes'] / 1e6:.3f} MB "
                    f"gzipped ({100 * tf_row['top1']:.1f}%): {ratio:.2f}x smaller raw, "
                    f"{tf_row['gzip_bytes'] / s['bytes']:.2f}x against gzipped",
        "met": bool(ok_ratio and ok_gz), "why": "; ".join(why)})

  # 3. a SquishedNet beats MobileNetV3-Small on size and throughput at equal-or-better top-1.
  goals.append(_mobilenet_goal(rows, ours, "float32", records))
  return goals


def _mobilenet_goal(rows, ours, precision, records) -> dict:
  from squish_tf.net import arch
  m = next(r for r in rows if r["family"] == "mobilenet" and r["precision"] == precision)
  pool = [r for r in ours if r["precision"] == precision and r["top1"] >= m["top1"] - EQUAL_TOP1 - 1e-9]
  beats = [r for r in pool if r["bytes"] < m["bytes"] and r["images_per_sec_b1"] > m["images_per_sec_b1"]
           and r["images_per_sec_b32"] > m["images_per_sec_b32"]]
  goal = (f"a SquishedNet beats MobileNetV3-Small ({precision}) on file size and throughput "
          f"(batch 1 and 32) at equal-or-better top-1 (not more than 1 point below)")
  def line(r):
    return (f"{r['name']}: {r['bytes'] / 1e6:.3f} MB, {r['images_per_sec_b1']:.0f}/"
            f"{r['images_per_sec_b32']:.0f} img/s, {100 * r['top1']:.1f}%")
  measured = f"MobileNetV3-Small: {line(m)[len('MobileNetV3-Small: '):]}; " + "; ".join(
      line(r) for r in ours if r["precision"] == precision)
  if beats:
    return {"goal": goal, "measured": measured, "met": True,
            "why": "beaten by " + ", ".join(r["name"] for r in beats)}
  why = []
  if not pool:
    why.append(f"no SquishedNet within 1 point of MobileNetV3-Small's {100 * m['top1']:.1f}%")
  for r in pool:
    lost = [k for k, bad in (("size", r["bytes"] >= m["bytes"]),
                             ("batch-1 throughput", r["images_per_sec_b1"] <= m["images_per_sec_b1"]),
                             ("batch-32 throughput", r["images_per_sec_b32"] <= m["images_per_sec_b32"]))
            if bad]
    spec = records[r["generation"]]["spec"]
    why.append(f"{r['name']} loses on {', '.join(lost)}: it computes "
               f"{arch.macs(spec, 224) / 1e6:.0f} M multiply-adds per 224x224 image against "
               f"MobileNetV3-Small's ~{MOBILENET_V3_SMALL_MADDS / 1e6:.0f} M (Howard et al. 2019)")
  return {"goal": goal, "measured": measured, "met": False, "why": "; ".join(why)}


def markdown(result: dict) -> str:
  from squish_tf.report.table2 import markdown_table
  rows = result["rows"]
  head = ["Model", "Precision", "Parameters (nonzero)", ".tflite", "gzipped", "Test top-1 (LiteRT)",
          "img/s b1", "img/s b32", "p50 ms b1"]
  table = markdown_table(head, [[
      r["name"] + (f" (gen {r['generation']})" if r.get("generation") is not None else ""),
      r["precision"], f"{r['params']:,} ({r['params_nonzero']:,})", f"{r['bytes'] / 1e3:,.1f} KB",
      f"{r['gzip_bytes'] / 1e3:,.1f} KB", f"{100 * r['top1']:.1f}%",
      f"{r['images_per_sec_b1']:.1f}", f"{r['images_per_sec_b32']:.1f}",
      f"{r['latency_ms_p50_b1']:.2f}"] for r in rows])
  goals = "\n".join(f"- **{'met' if g['met'] else 'MISSED'}**: {g['goal']}. Measured: "
                    f"{g['measured']}." + (f" Why: {g['why']}." if g["why"] else "")
                    for g in result["goals"])
  b, t = result["budget"], result["tfmot"]
  c = result["config"]
  notes = [
      f"Run `{result['workdir']}`: `{c['dataset']}` at {c['image_size']}x{c['image_size']}, seed "
      f"{c['seed']}; splits {result['split_sizes']}. Top-1 on the test split through the LiteRT "
      f"interpreter at {c['image_size']}x{c['image_size']}.",
      f"Training budget (the ancestor's): {b['epochs']} epochs, batch {b['batch_size']}, Adam "
      f"{b['learning_rate']} with cosine decay (squish_tf.train.fit). MobileNetV3-Small "
      f"(`weights=None`, `include_preprocessing=False`, dropout 0.2 as shipped) trains "
      f"{result['mobilenet']['epochs']} epochs from scratch; its inputs go through "
      f"`Rescaling(2, offset=-1)` because without preprocessing it expects [-1, 1], and its "
      f"batch-norm momentum is set from 0.999 to {peers.BN_MOMENTUM} (at 0.999 the moving statistics "
      f"barely move in {result['mobilenet']['steps']} steps and it predicts at chance); after "
      f"training its batch-norm statistics are re-estimated on the training split (forward "
      f"passes only; validation top-1 "
      f"{100 * result['mobilenet']['top1_val_keras_before_bn_recalibration']:.1f}% -> "
      f"{100 * result['mobilenet']['top1_val_keras']:.1f}%).",
      f"tfmot: `prune_low_magnitude` on the trained ancestor in "
      f"{len(t['schedule']['sparsities'])} stages of {t['schedule']['stage_steps']} steps, one "
      f"per generation up to the smallest SquishedNet; each stage prunes to that generation's "
      f"share of dead parameters (1 - alive / ancestor's; last "
      f"{100 * t['target_sparsity']:.1f}%, achieved kernel sparsity "
      f"{100 * t['kernel_sparsity']:.1f}%) and fine-tunes with Adam {b['learning_rate']}, cosine "
      f"decay restarted each stage, as the evolution fine-tunes each generation: {t['epochs']} "
      f"epochs in all ({b['prune_epochs_reason']}). Then `strip_pruning` and float32 "
      f"conversion, in a legacy-Keras process.",
      "int8: post-training full-integer quantization (squish_tf.export.int8.convert_int8, int8 "
      f"input/output, {result['representative_images']} training images for calibration), "
      "with the converter's per-channel weight scales (`int8`) and, for our networks, one "
      "scale per tensor (`int8 per-tensor`, `--int8_granularity=per_tensor`).",
      f"Throughput: squish_tf.bench.litert_bench side by side, {result['bench']['image_size']}x"
      f"{result['bench']['image_size']} files rebuilt with the same weights, "
      f"{result['bench']['threads']} interpreter threads, {result['bench']['rounds']} interleaved "
      f"rounds of {result['bench']['seconds']} s per file and batch size, on a shared 2-core "
      f"machine: compare ratios, not absolute figures.",
  ]
  return "\n\n".join([
      "# SquishedNets against their peers",
      f"`{result['command']}` ({result['wall_seconds'] / 60:.1f} min"
      + (", --quick: figures are not meaningful" if result["quick"] else "") + ").",
      table, "## Goals\n\n" + goals, "## How it was measured\n\n" + "\n".join(f"- {n}" for n in notes),
      "![top-1 and throughput against size](peers.png)"]) + "\n"


def plot(rows: list[dict], path: str) -> None:
  """Top-1 and throughput against file size; one colour per model, legend below."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  import matplotlib.ticker
  names = list(dict.fromkeys(r["name"] for r in rows))
  colour = {n: plt.get_cmap("tab10")(i) for i, n in enumerate(names)}
  fig, axes = plt.subplots(1, 2, figsize=(12, 5.6))
  for ax, key, label in ((axes[0], "top1", "test top-1 (LiteRT)"),
                         (axes[1], "images_per_sec_b32", "images/s, batch 32, 224x224")):
    for r in rows:
      filled = r["precision"] == "float32"
      marker = {"float32": "o", "int8": "s", "int8 per-tensor": "^"}[r["precision"]]
      ax.scatter(r["bytes"] / 1e3, r[key], s=55, marker=marker,
                 facecolors=colour[r["name"]] if filled else "none",
                 edgecolors=colour[r["name"]], linewidths=1.5,
                 label=f"{r['name']}, {r['precision']}")
      if r["family"] == "tfmot" and key == "top1":  # gzip is a download size, not a runtime
        ax.scatter(r["gzip_bytes"] / 1e3, r[key], marker="x", color=colour[r["name"]],
                   label=f"{r['name']}, gzipped file")
    ax.axvline(INT8_BUDGET_BYTES / 1e3, color="k", lw=0.6, ls="--", label="150 KB")
    ax.set_xscale("log")
    ticks = [100, 150, 300, 1000, 3000, 10000]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel(".tflite size (KB, log scale)")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
  handles, labels = axes[0].get_legend_handles_labels()
  fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
  fig.suptitle("SquishedNets and peers (filled circles: float32; hollow: int8, squares "
               "per-channel, triangles per-tensor)")
  fig.tight_layout(rect=(0, 0.14, 1, 1))
  fig.savefig(path, dpi=110)
  plt.close(fig)


def compare(workdir: str, out_dir: str, results_dir: str, bench_size: int, threads, seconds: float,
            rounds: int, prune_epochs, max_drop: float, max_models: int, quick: bool,
            command: str) -> dict:
  import keras
  import numpy as np
  from squish_tf import data, files, train
  from squish_tf.bench import litert_bench as bench
  from squish_tf.export import litert
  from squish_tf.net import model as model_lib
  from squish_tf.rundir import RunDir
  start = time.perf_counter()
  cfg, records, named = load_run(workdir, max_drop, max_models)
  os.makedirs(out_dir, exist_ok=True)
  os.makedirs(results_dir, exist_ok=True)
  threads = threads or os.cpu_count()
  epochs = 1 if quick else cfg["epochs"]
  n_rep = 16 if quick else REPRESENTATIVE_IMAGES
  if quick:
    seconds, rounds = min(seconds, 0.5), 1

  keras.utils.set_random_seed(cfg["seed"])
  splits = data.load(cfg["dataset"], cfg["image_size"], cfg["data_dir"], cfg["seed"])
  big_splits = data.load(cfg["dataset"], bench_size, cfg["data_dir"], cfg["seed"])
  test_x, test_y = data.as_numpy(splits.test)
  val_x, val_y = data.as_numpy(splits.validation)
  rep = data.as_numpy(splits.train, n_rep)[0]
  rep_big = data.as_numpy(big_splits.train, n_rep)[0]

  def load(gen):
    return keras.saving.load_model(RunDir(workdir).gen_file(gen, "model.keras"), compile=False)

  def ours(label, family, gen, slug):
    """float32 and int8 rows of one of our generations."""
    net, rec = load(gen), records[gen]
    f32_big = os.path.join(out_dir, f"{slug}_float32_{bench_size}.tflite")
    big = model_lib.rebuild(net, bench_size)
    files.write_bytes(f32_big, litert.to_tflite(big))
    common = {"name": label, "family": family, "generation": gen, "params": rec["params_total"],
              "params_nonzero": rec["params_alive"]}
    rows = [{**common, "precision": "float32", "bench_file": f32_big,
             "file": RunDir(workdir).gen_file(gen, "model.tflite")}]
    # int8 with the converter's per-channel weight scales, and with one scale per tensor
    # (squish_tf.export.int8.GRANULARITIES): the size/accuracy trade a user can pick.
    for precision, granularity, stem in (("int8", "per_channel", f"{slug}_int8"),
                                         ("int8 per-tensor", "per_tensor", f"{slug}_int8pt")):
      paths = (os.path.join(out_dir, f"{stem}.tflite"),
               os.path.join(out_dir, f"{stem}_{bench_size}.tflite"))
      i8 = peers.int8_pair(net, big, rep, rep_big, val_x, val_y, *paths,
                     granularity=granularity)
      rows.append({**common, "precision": precision, "file": paths[0], "bench_file": paths[1],
                   **i8})
    return rows

  # First, so that a failing peer recipe shows before the long tfmot stage.
  print(f"MobileNetV3-Small: training {epochs} epochs", flush=True)
  keras.utils.set_random_seed(cfg["seed"])
  mnet = peers.mobilenet_v3_small(cfg["image_size"], splits.num_classes)
  t0 = time.perf_counter()
  train.fit(mnet, splits, epochs, cfg["batch_size"], cfg["learning_rate"], cfg["seed"],
            verbose=2)
  mnet_seconds = time.perf_counter() - t0
  val_before = train.top1(mnet, splits.validation)
  peers.recalibrate_batch_norm(mnet, splits.train, cfg["batch_size"])
  val_after = train.top1(mnet, splits.validation)
  print(f"MobileNetV3-Small validation top-1 {val_before:.4f}, {val_after:.4f} after "
        f"recalibrating batch norms", flush=True)
  mnet_big = peers.mobilenet_v3_small(bench_size, splits.num_classes)
  mnet_big.set_weights(mnet.get_weights())
  m_file = os.path.join(out_dir, "mobilenet_v3_small_float32.tflite")
  parity = litert.export_verified(mnet, test_x[:64], m_file)
  m_big = os.path.join(out_dir, f"mobilenet_v3_small_float32_{bench_size}.tflite")
  files.write_bytes(m_big, litert.to_tflite(mnet_big))
  m_params = int(mnet.count_params())
  m_nonzero = int(sum(np.count_nonzero(w) for w in mnet.get_weights()))
  common = {"name": "MobileNetV3-Small", "family": "mobilenet", "generation": None,
            "params": m_params, "params_nonzero": m_nonzero}
  i8 = peers.int8_pair(mnet, mnet_big, rep, rep_big, val_x, val_y,
                 os.path.join(out_dir, "mobilenet_v3_small_int8.tflite"),
                 os.path.join(out_dir, f"mobilenet_v3_small_int8_{bench_size}.tflite"))
  mnet_rows = [{**common, "precision": "float32", "file": m_file, "bench_file": m_big},
               {**common, "precision": "int8", **i8,
                "file": os.path.join(out_dir, "mobilenet_v3_small_int8.tflite"),
                "bench_file": os.path.join(out_dir,
                                           f"mobilenet_v3_small_int8_{bench_size}.tflite")}]

  print("ancestor and SquishedNets: converting float32 and int8 files", flush=True)
  rows = ours("Ancestor", "ancestor", 0, "ancestor")
  for n in named:
    rows += ours(n["name"], "squishednet", n["generation"], n["name"].lower())

  smallest_gen = min((n["generation"] for n in named), key=lambda g: records[g]["tflite_bytes"])
  # One tfmot stage per generation of the lineage, at that generation's share of alive
  # parameters, so magnitude masks get the schedule the evolution's squishing had.
  sparsities = [round(1.0 - records[g]["params_alive"] / records[0]["params_total"], 5)
                for g in range(1, smallest_gen + 1)]
  if prune_epochs:
    reason = "set by --prune_epochs"
  elif quick:
    prune_epochs, reason = 1, "--quick"
  else:
    prune_epochs = smallest_gen * cfg["finetune_epochs"]
    reason = (f"the evolution's fine-tuning to the smallest SquishedNet: {smallest_gen} "
              f"generations x {cfg['finetune_epochs']} epochs"
              + (f" x population {cfg['population']} offspring trained per generation"
                 if cfg["population"] > 1 else ""))
  print(f"tfmot: pruning the ancestor to {100 * sparsities[-1]:.1f}% sparsity in "
        f"{len(sparsities)} stages over {prune_epochs} epochs (legacy-Keras process)", flush=True)
  tf_dir = os.path.join(out_dir, "tfmot")
  tfmot = peers.run_tfmot(load(0), cfg, sparsities, prune_epochs, tf_dir, bench_size, val_x[:32])
  rows.append({"name": "tfmot pruned ancestor", "family": "tfmot", "generation": None,
               "precision": "float32", "params": tfmot["params_total"],
               "params_nonzero": tfmot["params_nonzero"], "kernel_sparsity": tfmot["kernel_sparsity"],
               "file": os.path.join(tf_dir, "model.tflite"),
               "bench_file": os.path.join(tf_dir, f"model_{bench_size}.tflite")})

  rows += mnet_rows

  print("top-1 on the test split (LiteRT)", flush=True)
  measure_top1(rows, test_x, test_y, threads)
  print(f"benchmarking {len(rows)} files side by side at {bench_size}x{bench_size}", flush=True)
  speed = bench.benchmark([r["bench_file"] for r in rows], image_size=bench_size, threads=threads,
                          seconds=seconds, rounds=rounds)
  for r, s in zip(rows, speed):
    r.update({k: s[k] for k in s if k.startswith(("images_per_sec", "latency_ms"))})
    r["bench_bytes"] = s["bytes"]
  result = {
      "command": command, "workdir": workdir, "quick": quick,
      "config": {k: cfg[k] for k in ("dataset", "image_size", "data_dir", "seed", "epochs",
                                     "batch_size", "learning_rate", "finetune_epochs",
                                     "generations", "population")},
      "split_sizes": dict(splits.sizes), "representative_images": n_rep,
      "budget": {"epochs": epochs, "batch_size": cfg["batch_size"],
                 "learning_rate": cfg["learning_rate"], "prune_epochs": prune_epochs,
                 "prune_epochs_reason": reason},
      "tfmot": tfmot,
      "mobilenet": {"epochs": epochs, "train_seconds": round(mnet_seconds, 1),
                    "steps": epochs * -(-splits.sizes["train"] // cfg["batch_size"]),
                    "bn_momentum": peers.BN_MOMENTUM,
                    "top1_val_keras_before_bn_recalibration": round(val_before, 5),
                    "top1_val_keras": round(val_after, 5),
                    "tflite_parity": parity, "input_rescaling": "x * 2 - 1 (0..1 -> -1..1)"},
      "bench": {"image_size": bench_size, "threads": threads, "seconds": seconds, "rounds": rounds},
      "rows": rows,
  }
  result["goals"] = evaluate_goals(rows, records, named)
  result["goals_int8_extra"] = _mobilenet_goal(rows, [r for r in rows if r["family"] == "squishednet"],
                                               "int8", records)
  result["wall_seconds"] = round(time.perf_counter() - start, 1)
  files.write_json(os.path.join(results_dir, "peers.json"), result)
  files.write_text(os.path.join(results_dir, "peers.md"), markdown(result))
  plot(rows, os.path.join(results_dir, "peers.png"))
  return result


def main(argv):
  del argv
  if FLAGS.replot:
    from squish_tf import files
    result = files.read_json(os.path.join(FLAGS.results_dir, "peers.json"))
    files.write_text(os.path.join(FLAGS.results_dir, "peers.md"), markdown(result))
    plot(result["rows"], os.path.join(FLAGS.results_dir, "peers.png"))
    print(f"rewrote peers.md and peers.png in {FLAGS.results_dir} from peers.json")
    return 0
  if not FLAGS.workdir:
    from squish_tf.errors import UserError
    raise UserError("--workdir is required: a finished squish-evolve run, e.g. --workdir=runs/goals")
  out_dir = FLAGS.out_dir or os.path.join(FLAGS.workdir, "peers")
  command = "python benchmarks/compare_peers.py --workdir=" + FLAGS.workdir + (
      " --quick" if FLAGS.quick else "")
  compare(FLAGS.workdir, out_dir, FLAGS.results_dir, FLAGS.bench_image_size, FLAGS.threads,
          FLAGS.seconds, FLAGS.rounds, FLAGS.prune_epochs, FLAGS.max_drop, FLAGS.max_models,
          FLAGS.quick, command)
  print(open(os.path.join(FLAGS.results_dir, "peers.md"), encoding="utf-8").read())
  return 0


if __name__ == "__main__":
  from squish_tf.cli import common
  common.run(main)  # quiet library logs; a UserError prints one line and exits 2

"""The outputs of benchmarks/pareto.py: points aggregated over seeds, the markdown table and
summary, and the two front plots (top-1 against size, against latency).

Imported by pareto.py; `replot` rewrites the .md and .png from a results .json alone.
"""

from __future__ import annotations

import os

import numpy as np

import peers  # benchmarks/peers.py (pareto.py puts this directory on sys.path)
import results  # benchmarks/results.py

# The methods, in the order tables and plots show them.

METHODS = ("evolution", "scratch", "width", "width_latency", "l1_oneshot", "l1_iterative",
           "l1_latency", "tfmot", "mobilenet")
LABELS = {"evolution": "evolution", "scratch": "same architecture from scratch",
          "width": "SqueezeNet v1.1 x width",
          "width_latency": "SqueezeNet v1.1 x width, matched to latency",
          "l1_oneshot": "L1 filter pruning (one-shot)",
          "l1_iterative": "L1 filter pruning (iterative)",
          "l1_latency": "L1 filter pruning (iterative), matched to latency",
          "tfmot": "tfmot magnitude pruning",
          "mobilenet": "MobileNetV3-Small"}

# Figures averaged over seeds: every point carries mean, std and n for each.
FIGURES = ("generation", "budget_epochs", "params_total", "params_nonzero", "macs",
           "top1_val", "top1_test", "top1_test_int8", "float_bytes", "float_gzip_bytes",
           "int8_bytes", "int8_gzip_bytes", "size_bytes")
LATENCY_KEYS = tuple(f"latency_ms_p{q}_{prec}_{t}" for prec in ("float", "int8")
                     for t in ("t1", "tall") for q in (10, 50, 90))
RATIOS = {"size_vs_ancestor": ("size_bytes", "float_bytes"),
          "int8_size_vs_ancestor": ("int8_bytes", "float_bytes"),
          "latency_t1_vs_ancestor": ("latency_ms_p50_float_t1", "latency_ms_p50_float_t1"),
          "latency_tall_vs_ancestor": ("latency_ms_p50_float_tall", "latency_ms_p50_float_tall"),
          "int8_latency_t1_vs_ancestor": ("latency_ms_p50_int8_t1", "latency_ms_p50_float_t1")}



# --- Aggregates over seeds -----------------------------------------------------------------

def aggregate(points: list[dict], methods, match: str = "all") -> list[dict]:
  """One entry per (method, index): mean, std (over seeds, ddof 1) and n of every figure.
  With `match="smallest"` a baseline's pieces are one point whichever SquishedNet-k was the
  smallest of its seed."""
  groups = {}
  for p in points:
    index = str(p["index"])
    if match == "smallest" and p["method"] not in ("evolution", "mobilenet"):
      index = "smallest"
    groups.setdefault((p["method"], index), []).append(p)
  order = {m: i for i, m in enumerate(methods)}
  out = []
  for (method, index), group in sorted(groups.items(), key=lambda kv: _order(kv[0], order)):
    entry = {"method": method, "index": index, "label": label(method, index, group),
             "n_seeds": len(group), "seeds": sorted(p["seed"] for p in group)}
    for key in FIGURES + LATENCY_KEYS + tuple(RATIOS):
      entry[key] = summary([p.get(key) for p in group])
    out.append(entry)
  return out


def _order(key, order):
  method, index = key
  return (order.get(method, len(order)), int(index) if index.isdigit() else 0, index)


def summary(values: list) -> dict | None:
  values = [float(v) for v in values if v is not None]
  if not values:
    return None
  std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
  return {"mean": float(np.mean(values)), "std": std, "n": len(values)}


def label(method: str, index: str, group: list[dict]) -> str:
  if method == "evolution":
    names = {p.get("squishednet") for p in group} - {None}
    return f"gen {index}" + (f" ({', '.join(sorted(names))})" if names else "")
  if method == "mobilenet":
    return f"alpha {index}" if index[0].isdigit() else index
  if index == "smallest":
    return "matched to the smallest SquishedNet"
  return f"matched to SquishedNet-{index}"


def describe(entry: dict) -> str:
  """A point in words: its method and which point of it."""
  if entry["method"] == "mobilenet":
    return f"{LABELS['mobilenet']} {entry['label']}"
  return f"{LABELS[entry['method']]} {entry['label']}" if entry["method"] == "evolution" \
      else f"{LABELS[entry['method']]} ({entry['label']})"


# --- Outputs -------------------------------------------------------------------------------

def _pm(entry: dict, key: str, scale: float = 1.0, digits: int = 1) -> str:
  s = entry.get(key)
  if s is None:
    return "-"
  text = f"{s['mean'] * scale:,.{digits}f} ± {s['std'] * scale:,.{digits}f}"
  return text if s["n"] == entry["n_seeds"] else f"{text} (n={s['n']})"


def markdown_table(aggregates: list[dict]) -> str:
  from squish_tf.report.table2 import markdown_table as table
  head = ["method", "point", "n", "params", "MMACs", "float32 KB", "int8 KB",
          "top-1 float32 %", "top-1 int8 %", "p50 ms 1 thr", "p50 ms all", "int8 p50 ms 1 thr",
          "size vs gen 0", "1-thr latency vs gen 0"]
  rows = [[LABELS[e["method"]], e["label"], str(e["n_seeds"]),
           _pm(e, "params_total", 1e-3, 1) + " k", _pm(e, "macs", 1e-6, 2),
           _pm(e, "size_bytes", 1e-3), _pm(e, "int8_bytes", 1e-3),
           _pm(e, "top1_test", 100), _pm(e, "top1_test_int8", 100),
           _pm(e, "latency_ms_p50_float_t1", 1, 3), _pm(e, "latency_ms_p50_float_tall", 1, 3),
           _pm(e, "latency_ms_p50_int8_t1", 1, 3), _pm(e, "size_vs_ancestor", 1, 3),
           _pm(e, "latency_t1_vs_ancestor", 1, 3)] for e in aggregates]
  return table(head, rows)


def _mean(entry: dict, key: str):
  s = entry.get(key)
  return None if s is None else s["mean"]


def front_summary(aggregates: list[dict], x_key: str, unit: str, scale: float) -> list[str]:
  """Per band of x (powers of 2), the most accurate method, and how evolution fares there."""
  pts = [e for e in aggregates if _mean(e, x_key) and _mean(e, "top1_test") is not None]
  if not pts:
    return ["no points"]
  lines = []
  lows = sorted({2.0 ** np.floor(np.log2(_mean(e, x_key) * scale)) for e in pts})
  for low in lows:
    band = [e for e in pts if low <= _mean(e, x_key) * scale < 2 * low]
    best = max(band, key=lambda e: _mean(e, "top1_test"))
    evo = [e for e in band if e["method"] == "evolution"]
    line = (f"{low:g}-{2 * low:g} {unit}: best {describe(best)}, "
            f"{100 * _mean(best, 'top1_test'):.1f}%")
    if best["method"] != "evolution" and evo:
      e = max(evo, key=lambda e: _mean(e, "top1_test"))
      gap = _mean(best, "top1_test") - _mean(e, "top1_test")
      spread = max(best["top1_test"]["std"], e["top1_test"]["std"])
      line += (f"; evolution loses by {100 * gap:.1f} points (its best here: {e['label']}, "
               f"{100 * _mean(e, 'top1_test'):.1f}%"
               + (", within the seeds' spread" if gap <= spread else "") + ")")
    elif not evo:
      line += "; no evolution point here"
    lines.append(line)
  return lines


def dominated_generations(aggregates: list[dict], x_key: str) -> list[str]:
  """Evolution points some other method beats on both axes (means), consecutive generations
  beaten by the same methods as one range ("gens 0-21 by ...")."""
  runs = []  # [first gen, last gen, beaters, named labels]
  others = [e for e in aggregates if e["method"] != "evolution" and _mean(e, x_key)]
  for e in aggregates:
    if e["method"] != "evolution" or not _mean(e, x_key):
      continue
    beaters = sorted({LABELS[o["method"]] for o in others if _mean(o, x_key) <= _mean(e, x_key)
                      and _mean(o, "top1_test") > _mean(e, "top1_test")})
    if not beaters:
      continue
    gen = int(e["index"])
    named = [e["label"]] if "(" in e["label"] else []
    if runs and runs[-1][1] == gen - 1 and runs[-1][2] == beaters:
      runs[-1][1] = gen
      runs[-1][3] += named
    else:
      runs.append([gen, gen, beaters, named])
  return [(f"gen {a}" if a == b else f"gens {a}-{b}")
          + (f" (with {', '.join(named)})" if named and a != b else
             f" ({named[0].split('(', 1)[1]}" if named else "")
          + " by " + " / ".join(beaters) for a, b, beaters, named in runs]


def per_seed_rows(result: dict) -> list[list[str]]:
  """Per seed and SquishedNet the baselines were matched to: the ancestor, that SquishedNet and
  each baseline matched to it, side by side. Means over seeds mix baselines matched to
  different generations when the seeds' SquishedNets differ; these rows never do. A seed
  without an ancestor point (evolution left out of --methods) has no rows."""
  rows = []
  for seed, named in sorted(result["squishednets"].items(), key=lambda kv: int(kv[0])):
    mine = [p for p in result["points"] if str(p["seed"]) == str(seed)]
    ancestor = next((p for p in mine if p["method"] == "evolution" and p["generation"] == 0),
                    None)
    if ancestor is None:
      continue
    for n in named:
      matched = sorted((p for p in mine if p["generation"] == n["generation"]),
                       key=lambda p: METHODS.index(p["method"]))
      rows.append(_row(seed, "ancestor", "gen 0", ancestor, ancestor))
      for p in matched:
        if p["method"] == "evolution":
          rows.append(_row(seed, n["name"], f"gen {p['generation']}", p, ancestor))
        else:
          rows.append(_row(seed, LABELS[p["method"]], f"matched to gen {p['generation']}", p,
                           ancestor))
  return rows


def _row(seed, name: str, generation: str, p: dict, ancestor: dict) -> list[str]:
  latency = [p.get(f"latency_ms_{q}_float_t1") for q in ("p10", "p50")]
  reference = [ancestor.get(f"latency_ms_{q}_float_t1") for q in ("p10", "p50")]
  return [str(seed), name, generation, f"{p['params_total']:,}", f"{p['macs'] / 1e6:.2f}",
          f"{p['size_bytes'] / 1e3:,.1f}", _times(ancestor.get("float_bytes"), p["size_bytes"]),
          _percent(p.get("top1_val")), _percent(p.get("top1_test")),
          _points(p.get("top1_test"), ancestor.get("top1_test")), *map(_ms, latency),
          *map(_times, reference, latency)]


def _times(reference, value) -> str:
  return f"{reference / value:.2f}x" if reference and value else "-"


def _percent(value) -> str:
  return "-" if value is None else f"{100 * value:.2f}"


def _points(value, reference) -> str:
  return "-" if value is None or reference is None else f"{100 * (value - reference):+.2f}"


def _ms(value) -> str:
  return "-" if value is None else f"{value:.4f}"


def per_seed_table(result: dict) -> str:
  """The per-seed rows as markdown, with how far apart files of one architecture timed."""
  from squish_tf.report.table2 import markdown_table as table
  head = ["seed", "network", "generation", "params", "MMACs", "KB", "smaller", "val top-1 %",
          "test top-1 %", "test vs ancestor (points)", "p10 ms", "p50 ms", "faster (p10)",
          "faster (p50)"]
  spreads = [f"{q} up to {100 * (worst - 1):.0f}%" for q, worst in twin_spread(result).items()]
  noise = (" Files of one architecture (the same parameter and MAC counts: the ancestors and "
           "tfmot's dense files, each SquishedNet and its from-scratch twin, width and one-shot "
           "L1 when their filter counts agree) timed apart by " + ", ".join(spreads)
           + ": the timing noise between files." if spreads else "")
  without = [s for s, named in result["squishednets"].items() if not named]
  return ("Each seed's SquishedNet(s) the baselines were matched to, beside the seed's ancestor "
          "and those baselines. KB is the float32 .tflite (tfmot: gzipped, its file being "
          "dense); ratios are to the same seed's ancestor; latency at batch 1 on 1 thread, p10 "
          "and p50 of every timed run." + noise
          + (f" Seeds without a SquishedNet: {', '.join(without)}." if without else "")
          + "\n\n" + table(head, per_seed_rows(result)))


def twin_spread(result: dict) -> dict:
  """The largest ratio (slower / faster) between files of one architecture, per percentile.
  Equal parameter and MAC counts stand for equal filter counts (MobileNet points left out)."""
  groups = {}
  for p in result["points"]:
    if p["method"] != "mobilenet":
      groups.setdefault((p["params_total"], p["macs"]), []).append(p)
  out = {}
  for q in ("p10", "p50"):
    ratios = [max(t) / min(t) for t in ([p.get(f"latency_ms_{q}_float_t1") for p in g]
                                        for g in groups.values()) if len(t) > 1 and all(t)]
    if ratios:
      out[q] = max(ratios)
  return out


def mixed_generations(result: dict) -> str:
  """A warning when the seeds' matched SquishedNets are different generations: a mean per
  generation then covers fewer seeds, and a baseline's mean mixes different sizes."""
  gens = {seed: [n["generation"] for n in named] for seed, named in result["squishednets"].items()}
  if len({tuple(g) for g in gens.values()}) <= 1:
    return ""
  which = "; ".join(f"seed {s}: " + (f"gen {', '.join(map(str, g))}" if g else "none")
                    for s, g in gens.items())
  return (f"**The seeds' SquishedNets are different generations ({which}).** A generation's "
          f"mean covers only the seeds that reached it, and each baseline's mean mixes sizes "
          f"matched to different generations: the per-seed table below compares like with "
          f"like.\n\n")


def markdown(result: dict) -> str:
  c, agg = result["config"], result["aggregates"]
  evo = c["evolve_config"]
  lat = result["latency"]
  notes = [
      f"Data: `{c['dataset']}` ({result['split_sizes']['train']:,} training images, "
      f"{result['split_sizes']['validation']:,} validation, {result['split_sizes']['test']:,} "
      f"test), at {c['image_size']}x{c['image_size']} (the release size): training, top-1 and "
      f"timing. Seeds {', '.join(map(str, c['seeds']))}: each its own split of the training "
      f"images, evolution and peers. Top-1 on the test split through LiteRT; the test split "
      f"is read for nothing else. Every figure is the mean ± std over seeds (n = seeds).",
      "Evolution: EvolveConfig's defaults"
      + (f" with {', '.join(f'{k}={v}' for k, v in c['overrides'].items())}"
         if c["overrides"] else "")
      + f": ancestor {evo['epochs']} epochs (E), {evo['generations']} generations of "
      f"{evo['population']} offspring (P) fine-tuned {evo['finetune_epochs']} epochs (F), "
      f"batch {evo['batch_size']}, Adam {evo['learning_rate']} with cosine decay, "
      f"{evo['int8_granularity']} int8. SquishedNets named as squish-report does (validation "
      f"top-1 within {c['max_drop']} of the ancestor, at most {c['max_models']} per seed).",
      "Budgets (epochs over the same training split): the evolution spent B_g = E plus "
      "every epoch its offspring trained in generations 1..g (g·F·P without milder retries "
      "or recovery epochs; those count too, as do a polished generation's epochs). Matched to "
      "SquishedNet-k of a seed (generation g): `scratch` "
      "(its architecture) and `width` (every filter count x alpha, rounded, alpha by "
      "bisection to its parameter count) train B_g from scratch, as does `width_latency` (alpha "
      "by bisection to the SquishedNet's latency, each candidate timed side by side with it, "
      "as for `l1_latency`); `l1_oneshot` removes the "
      "trained ancestor's weakest filters (L1 norm) in every conv layer but conv10, through "
      "squish_tf's surgery, to its parameter count (fraction by bisection) and fine-tunes "
      "B_g - E; `l1_iterative` does so in g steps of equal ratio, fine-tuning after step i what "
      "the evolution spent in generation i (B_i - B_(i-1)); `l1_latency` is `l1_iterative` "
      "pruned on to the parameter count at which the ancestor, L1-pruned, runs as fast as "
      "the SquishedNet (p50, batch 1, 1 thread; bisection, each candidate timed side by side "
      "with the SquishedNet), with the same budget; "
      "`tfmot` (smallest SquishedNet only) prunes the ancestor with `prune_low_magnitude` "
      "in g stages to each generation's share of dead parameters, B_g - E epochs in all; its "
      "file is dense, so its size is the gzipped file. MobileNetV3-Small (keras.applications, "
      "weights=None, inputs rescaled to [-1, 1], batch-norm momentum "
      f"{peers.BN_MOMENTUM} and batch norms re-estimated after training) trains E epochs, the "
      "ancestor's budget."
      + (f" Distillation (the evolution's distill={evo['distill']}, temperature "
         f"{evo['distill_temperature']}): the L1 baselines distil as offspring do, each step "
         f"from the network it was pruned from, but not in the step matched to a polished "
         f"generation, as the polish does not (one-shot: from the ancestor, in its one "
         f"fine-tune); scratch, width, tfmot and MobileNet do not."
         if evo.get("distill", 0) > 0 else ""),
      "Files: float32 .tflite verified against Keras on validation images; int8 post-"
      "training, calibrated on training images, kept only if it agrees with the float model "
      "on 95% of the validation images (a refused file is '-'). tfmot int8: "
      + result["notes"]["tfmot_int8"] + ".",
      f"Latency: every file of every seed timed in one process, interleaved "
      f"(squish_tf.bench.litert_bench), batch 1, {lat['image_size']}x{lat['image_size']}, on "
      f"1 thread and on all {lat['threads']['tall']} cores, {lat['seconds_per_file']} s per "
      f"file and thread count in {lat['rounds']} round{'s' * (lat['rounds'] != 1)}; p50 shown "
      f"(p10/p90 in the JSON). "
      f"Ratios are to the same seed's ancestor's float32 file, then averaged.",
  ]
  train = result["split_sizes"]["train"]
  which = "the smallest of each seed" if c.get("match", "all") == "smallest" else "every one"
  notes.insert(3, f"SquishedNets the baselines are matched to ({which}): " + "; ".join(
      f"seed {seed}: " + (", ".join(
          f"{n['name']} = gen {n['generation']}, {n['params_total']:,} parameters, B_g = "
          f"{n['budget_epochs']} epochs x {train:,} images" for n in named) or "none")
      for seed, named in result["squishednets"].items()) + ".")
  summary_lines = (
      ["**Size front** (x = float32 .tflite; tfmot gzipped):"]
      + [f"- {s}" for s in front_summary(agg, "size_bytes", "KB", 1e-3)]
      + ["", "**Latency front** (batch 1, 1 thread):"]
      + [f"- {s}" for s in front_summary(agg, "latency_ms_p50_float_t1", "ms", 1.0)])
  for name, key in (("size", "size_bytes"), ("1-thread latency", "latency_ms_p50_float_t1")):
    lost = dominated_generations(agg, key)
    if lost:
      summary_lines += ["", f"Generations beaten on {name} and top-1 at once: "
                        + "; ".join(lost) + "."]
  stages = ", ".join(f"{k} {v / 60:.1f} min" for k, v in result["stage_seconds"].items())
  name = result["name"]
  return "\n\n".join([
      f"# Pareto fronts: evolution against its baselines ({c['tag']})",
      f"`{result['command']}` ({result['wall_seconds'] / 60:.1f} min this invocation: "
      f"{stages}).",
      *(["**--quick: a smoke run at toy size; its figures mean nothing.**"]
        if c["quick"] else []),
      "## Summary (means over seeds)\n\n" + mixed_generations(result)
      + "\n".join(summary_lines),
      "## Per seed\n\n" + per_seed_table(result),
      "## Every point (means over seeds)\n\n" + markdown_table(agg),
      "## How it was measured\n\n" + "\n".join(f"- {n}" for n in notes),
      f"![top-1 against size]({name}_size.png)\n\n![top-1 against latency]({name}_latency.png)",
  ]) + "\n"


def front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
  """The (x, y) no other point beats with a smaller x and a higher y, by x."""
  out = []
  for x, y in sorted(points, key=lambda p: (p[0], -p[1])):
    if not out or y > out[-1][1]:
      out.append((x, y))
  return out


def plot(aggregates: list[dict], x_key: str, int8_key: str, scale: float, xlabel: str,
         title: str, path: str) -> None:
  """Test top-1 against x (times `scale`), log x, error bars over seeds; int8 hollow; each
  method's points joined in order (generations, SquishedNet-k); the front of all float32
  points in grey; the ancestor, SquishedNets and MobileNet variants named."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  import matplotlib.ticker as ticker
  fig, ax = plt.subplots(figsize=(10, 6.5))
  colours = {m: plt.get_cmap("tab10")(i) for i, m in enumerate(METHODS)}
  xs, floats = [], []
  for method in METHODS:
    for key, y_key, hollow in ((x_key, "top1_test", False), (int8_key, "top1_test_int8", True)):
      pts = [e for e in aggregates if e["method"] == method and _mean(e, key)
             and _mean(e, y_key) is not None]
      if not pts:
        continue
      x = [scale * _mean(e, key) for e in pts]
      y = [100 * _mean(e, y_key) for e in pts]
      xs += x
      floats += [] if hollow else list(zip(x, y))
      ax.errorbar(x, y, xerr=[scale * e[key]["std"] for e in pts],
                  yerr=[100 * e[y_key]["std"] for e in pts], color=colours[method], marker="o",
                  ms=6, lw=0 if method == "mobilenet" else 0.7, ls=":" if hollow else "-",
                  elinewidth=0.8, capsize=2, mfc="white" if hollow else colours[method],
                  label=LABELS[method] + (", int8" if hollow else ""))
      for e, xy in zip(pts, zip(x, y)):
        name = _short_name(e)
        if name and not hollow:
          ax.annotate(name, xy, textcoords="offset points", xytext=(4, 4), fontsize=7,
                      color=colours[method])
  if floats:
    fx, fy = zip(*front(floats))
    ax.step(fx, fy, where="post", color="grey", lw=1.2, ls="--", alpha=0.6,
            label="front of all float32 points")
  ax.set_xscale("log")
  if xs:  # a handful of plain labels, whatever the range (log ticks label only decades)
    ticks = sorted({float(f"{v:.2g}") for v in np.geomspace(min(xs), max(xs), 6)})
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
  ax.xaxis.set_minor_formatter(ticker.NullFormatter())
  ax.set_xlabel(xlabel + " (log scale)")
  ax.set_ylabel("test top-1 (%, LiteRT)")
  ax.grid(alpha=0.3, which="both")
  ax.set_title(title, fontsize=10)
  ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def _short_name(entry: dict) -> str | None:
  """What a point is called on the plots: the ancestor, SN-k, a MobileNet variant."""
  if entry["method"] == "mobilenet":
    return entry["index"]
  if entry["method"] == "evolution" and entry["index"] == "0":
    return "ancestor"
  if entry["method"] == "evolution" and "SquishedNet" in entry["label"]:
    return entry["label"].split("(")[1].rstrip(")").replace("SquishedNet", "SN")
  return None


def write_outputs(result: dict, results_dir: str) -> None:
  name, agg = result["name"], result["aggregates"]
  results.write(name, result, results_dir=results_dir, markdown=markdown(result))
  seeds = f"mean ± std over {len(result['config']['seeds'])} seed(s)"
  plot(agg, "size_bytes", "int8_bytes", 1e-3, "KB of the .tflite (float32; tfmot gzipped)",
       f"Top-1 against size ({seeds}); hollow: int8 files",
       os.path.join(results_dir, f"{name}_size.png"))
  plot(agg, "latency_ms_p50_float_t1", "latency_ms_p50_int8_t1", 1.0,
       "p50 latency, batch 1, 1 thread (ms)",
       f"Top-1 against latency ({seeds}); hollow: int8 files",
       os.path.join(results_dir, f"{name}_latency.png"))


def replot(results_dir: str, name: str) -> None:
  from squish_tf import files
  from squish_tf.errors import UserError
  path = os.path.join(results_dir, f"{name}.json")
  if not os.path.exists(path):
    raise UserError(f"--replot: {path} does not exist; run pareto.py without --replot first")
  result = files.read_json(path)
  c = result["config"]
  result["aggregates"] = aggregate(result["points"], c["methods"], c.get("match", "all"))
  write_outputs(result, results_dir)

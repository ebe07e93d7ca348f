"""The run report: the paper's Table 2 for our generations, plots, and the tflite/ release.

Everything comes from the run directory (config.json, gen_*/metrics.json and the
.tflite files), except the 1000-class SqueezeNet v1.1 reference file, which is
built and measured once and cached in the run directory.
"""

from __future__ import annotations

import os
import shutil

import numpy as np

from squish_tf import arch, evolve, files, preprocess

# Table 2 of the paper: SquishedNet-1 is 2.4 MB and 2.04x smaller than SqueezeNet
# v1.1, and 100x smaller than AlexNet, so the references are 4.9 MB and 240 MB.
PAPER_SQUEEZENET_MB = 4.9
PAPER_ALEXNET_MB = 240.0
PAPER_TABLE = (("SquishedNet-1", 2.4, 156.09, 81.2), ("SquishedNet-2", 2.0, 174.86, 79.6),
               ("SquishedNet-3", 1.3, 225.35, 78.6), ("SquishedNet-4", 0.95, 256.00, 77.0))


def pareto_front(records: list[dict], size_key="tflite_bytes", score_key="top1_val") -> list[dict]:
  """Records no other record beats on both size (smaller) and score (higher), largest first."""
  front = []
  for r in records:
    dominated = any(o[size_key] <= r[size_key] and o[score_key] >= r[score_key]
                    and (o[size_key] < r[size_key] or o[score_key] > r[score_key])
                    for o in records)
    if not dominated:
      front.append(r)
  return sorted(front, key=lambda r: -r[size_key])


def name_squishednets(records: list[dict], max_drop: float, max_models: int) -> list[dict]:
  """SquishedNet-1..N: the Pareto front of generations >= 1 within `max_drop` of the
  ancestor's validation top-1, thinned evenly (ends kept) to `max_models`."""
  ancestor = records[0]
  pool = [r for r in records[1:] if r["top1_val"] >= ancestor["top1_val"] - max_drop]
  front = pareto_front(pool)
  if len(front) > max_models:
    picks = np.unique(np.round(np.linspace(0, len(front) - 1, max_models)).astype(int))
    front = [front[i] for i in picks]
  return [{"name": f"SquishedNet-{i + 1}", "generation": r["generation"]}
          for i, r in enumerate(front)]


def reference_squeezenet(workdir: str) -> dict:
  """Size of a float32 .tflite of the 1000-class SqueezeNet v1.1 (cached in the run)."""
  path = os.path.join(workdir, "reference", "squeezenet_v1_1_1000.json")
  if os.path.exists(path):
    return files.read_json(path)
  from squish_tf import litert, model as model_lib
  net = model_lib.squeezenet(num_classes=1000, image_size=224, seed=0, head_activation="relu")
  data = litert.to_tflite(net)
  figures = {"params": net.count_params(), "tflite_bytes": len(data)}
  files.write_json(path, figures)
  return figures


def _mb(n_bytes: float) -> str:
  return f"{n_bytes / 1e6:.3f} MB"


def table_rows(records: list[dict], named: list[dict], reference_bytes: int) -> list[list[str]]:
  by_gen = {r["generation"]: r for r in records}
  rows = []
  for label, gen in [("Ancestor (10-class SqueezeNet v1.1)", 0)] + [
      (n["name"], n["generation"]) for n in named]:
    r = by_gen[gen]
    size = r["tflite_bytes"]
    rows.append([label, str(gen), _mb(size), _mb(r["tflite_gzip_bytes"]),
                 f"{PAPER_SQUEEZENET_MB * 1e6 / size:.2f}x", f"{reference_bytes / size:.2f}x",
                 f"{PAPER_ALEXNET_MB * 1e6 / size:.0f}x", f"{r['images_per_sec_b32']:.1f}",
                 f"{100 * r['top1_tflite']:.1f}%", f"{r['params_total']:,}"])
  return rows


TABLE_HEAD = ["Model", "Gen", "Size", "Gzipped", "vs SqueezeNet v1.1 (paper, 4.9 MB)",
              "vs SqueezeNet v1.1 (ours)", "vs AlexNet (240 MB)", "Images/s",
              "Top-1 (test, LiteRT)", "Parameters"]


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
  lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
  return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def time_split(records: list[dict]) -> dict:
  """Seconds per phase over the run, and the share of everything but training."""
  total = {}
  for r in records:
    for phase, s in r.get("phase_seconds", {}).items():
      total[phase] = total.get(phase, 0.0) + s
  wall = sum(total.values())
  overhead = sum(v for k, v in total.items() if k in ("sample", "surgery", "convert", "benchmark"))
  return {"seconds": {k: round(v, 1) for k, v in total.items()}, "wall_seconds": round(wall, 1),
          "overhead_fraction": round(overhead / wall, 4) if wall else 0.0}


def plot(records: list[dict], named: list[dict], out_dir: str, bench_size: int) -> list[str]:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  gens = [r["generation"] for r in records]
  fig, axes = plt.subplots(3, 1, figsize=(7, 8), sharex=True)
  series = [("tflite_bytes", ".tflite size (MB)", 1e-6),
            ("top1_tflite", "test top-1 (LiteRT)", 1.0),
            ("images_per_sec_b32", f"images/s, batch 32, {bench_size}x{bench_size}", 1.0)]
  for ax, (key, label, scale) in zip(axes, series):
    ax.plot(gens, [r[key] * scale for r in records], marker="o")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
  axes[-1].set_xlabel("generation (0 = ancestor)")
  fig.suptitle("squish_tf evolution, per generation")
  fig.tight_layout()
  per_gen = os.path.join(out_dir, "generations.png")
  fig.savefig(per_gen, dpi=110)
  plt.close(fig)

  fig, ax = plt.subplots(figsize=(7, 5))
  ax.scatter([r["tflite_bytes"] / 1e6 for r in records], [r["top1_tflite"] for r in records],
             c=gens, cmap="viridis", label="generations")
  by_gen = {r["generation"]: r for r in records}
  for n in named:
    r = by_gen[n["generation"]]
    ax.annotate(f"{n['name']} (g{n['generation']})", (r["tflite_bytes"] / 1e6, r["top1_tflite"]),
                textcoords="offset points", xytext=(5, 5), fontsize=8)
  ax.annotate("ancestor", (records[0]["tflite_bytes"] / 1e6, records[0]["top1_tflite"]),
              textcoords="offset points", xytext=(5, -12), fontsize=8)
  ax.set_xlabel(".tflite size (MB, float32)")
  ax.set_ylabel("test top-1 (LiteRT)")
  ax.set_title("top-1 against size")
  ax.grid(alpha=0.3)
  fig.tight_layout()
  front = os.path.join(out_dir, "top1_vs_size.png")
  fig.savefig(front, dpi=110)
  plt.close(fig)
  return [per_gen, front]


def publish(workdir: str, records: list[dict], named: list[dict], table: str,
            publish_dir: str) -> None:
  """Writes the named SquishedNets in the tflite/ layout, replacing the old release whole."""
  cfg = files.read_json(os.path.join(workdir, "config.json"))
  labels = open(os.path.join(workdir, "labels.txt"), encoding="utf-8").read()
  by_gen = {r["generation"]: r for r in records}
  staging = publish_dir.rstrip("/") + ".partial"
  shutil.rmtree(staging, ignore_errors=True)
  index = []
  for n in named:
    r = by_gen[n["generation"]]
    slug = n["name"].lower()
    out = os.path.join(staging, slug)
    os.makedirs(out)
    for name in ("model.tflite", "model_int8.tflite"):
      source = os.path.join(evolve.gen_dir(workdir, n["generation"]), name)
      if os.path.exists(source):
        shutil.copyfile(source, os.path.join(out, name))
    files.write_text(os.path.join(out, "labels.txt"), labels)
    files.write_json(os.path.join(out, "preprocess.json"), preprocess.contract(cfg["image_size"]))
    keep = ("generation", "params_total", "params_alive", "macs", "top1_keras", "top1_tflite",
            "tflite_bytes", "tflite_gzip_bytes", "images_per_sec_b1", "images_per_sec_b32",
            "latency_ms_p50", "bench_image_size", "bench_threads", "spec", "tflite_int8_bytes",
            "top1_tflite_int8")
    files.write_json(os.path.join(out, "model.json"),
                     {"name": n["name"], "dataset": cfg["dataset"], "data_seed": cfg["seed"],
                      **{k: r[k] for k in keep if k in r}})
    index.append({"name": slug, "title": n["name"], "dir": slug, "generation": n["generation"],
                  "top1": r["top1_tflite"], "bytes": r["tflite_bytes"],
                  "image_size": cfg["image_size"], "num_classes": r["spec"][arch.HEAD],
                  "int8": r.get("tflite_int8_bytes") is not None})
  files.write_json(os.path.join(staging, "models.json"), index)
  files.write_text(os.path.join(staging, "MODELS.md"),
                   f"# Released SquishedNets\n\nFrom a `squish-evolve` run on `{cfg['dataset']}` "
                   f"(input {cfg['image_size']}x{cfg['image_size']}, preprocessing in each "
                   f"`preprocess.json`). Throughput: LiteRT interpreter, batch 32, "
                   f"{records[0]['bench_image_size']}x{records[0]['bench_image_size']}, "
                   f"{records[0]['bench_threads']} threads, on the machine that ran it.\n\n"
                   f"{table}\n")
  old = publish_dir.rstrip("/") + ".old"
  shutil.rmtree(old, ignore_errors=True)
  if os.path.exists(publish_dir):
    os.replace(publish_dir, old)
  os.replace(staging, publish_dir)
  shutil.rmtree(old, ignore_errors=True)


def write_report(workdir: str, publish_dir: str | None = None, max_drop: float = 0.02,
                 max_models: int = 4) -> dict:
  """Writes DIR/report.md, DIR/squishednets.json and the plots; publishes if asked."""
  from squish_tf.errors import UserError
  records = evolve.load_records(workdir)
  if not records:
    raise UserError(f"{workdir} has no finished generation to report; run squish-evolve "
                    f"--workdir={workdir} first")
  named = name_squishednets(records, max_drop, max_models)
  files.write_json(os.path.join(workdir, "squishednets.json"), named)
  reference = reference_squeezenet(workdir)
  table = markdown_table(TABLE_HEAD, table_rows(records, named, reference["tflite_bytes"]))
  bench_size = records[0]["bench_image_size"]
  plots = plot(records, named, workdir, bench_size)
  split = time_split(records)
  state_path = os.path.join(workdir, "state.json")
  stopped = files.read_json(state_path).get("stopped") if os.path.exists(state_path) else None
  paper = markdown_table(["Model", "Size", "vs SqueezeNet v1.1", "Images/s (Jetson TX1, b32)",
                          "Top-1 (ImageNet-10)"],
                         [[n, f"{mb} MB", f"{PAPER_SQUEEZENET_MB / mb:.2f}x", f"{ips}",
                           f"{top1}%"] for n, mb, ips, top1 in PAPER_TABLE])
  per_gen = markdown_table(
      ["Gen", "Params", "Alive", "MMACs", "Size", "Gzipped", "Top-1 val", "Top-1 test (LiteRT)",
       "img/s b1", "img/s b32", "p50 ms", "train s"],
      [[str(r["generation"]), f"{r['params_total']:,}", f"{r['params_alive']:,}",
        f"{r['macs'] / 1e6:.1f}", _mb(r["tflite_bytes"]), _mb(r["tflite_gzip_bytes"]),
        f"{r['top1_val']:.4f}", f"{r['top1_tflite']:.4f}", f"{r['images_per_sec_b1']:.1f}",
        f"{r['images_per_sec_b32']:.1f}", f"{r['latency_ms_p50']:.2f}",
        f"{r['train_seconds']:.1f}"] for r in records])
  if any(r.get("tflite_int8_bytes") for r in records):
    per_gen += "\n\nint8 (post-training, verified against float32):\n\n" + markdown_table(
        ["Gen", "int8 size", "Top-1 test (LiteRT, int8)"],
        [[str(r["generation"]), _mb(r["tflite_int8_bytes"]) if r.get("tflite_int8_bytes") else "refused",
          f"{r['top1_tflite_int8']:.4f}" if r.get("top1_tflite_int8") is not None else "-"]
         for r in records])
  threads = records[0]["bench_threads"]
  text = "\n\n".join([
      f"# squish_tf run report: `{workdir}`",
      f"{len(records) - 1} generations after the ancestor."
      + (f" The run stopped early: {stopped}." if stopped else ""),
      f"## SquishedNets (the paper's Table 2 columns)\n\nSizes are float32 `.tflite` files. "
      f"Our 1000-class SqueezeNet v1.1 `.tflite` measures {_mb(reference['tflite_bytes'])} "
      f"({reference['params']:,} parameters). Images/s: LiteRT interpreter, batch 32, "
      f"{bench_size}x{bench_size}, {threads} threads on this machine (the paper used a Jetson "
      f"TX1 GPU, so compare ratios, not absolute figures).\n\n{table}",
      f"## The paper's Table 2, for reference\n\n{paper}",
      f"## Every generation\n\n{per_gen}",
      "## Where the time went\n\n" + markdown_table(
          ["phase", "seconds"], [[k, f"{v:.1f}"] for k, v in sorted(split["seconds"].items())])
      + f"\n\nSampling, surgery, conversion and benchmarking: "
        f"{100 * split['overhead_fraction']:.1f}% of {split['wall_seconds']:.0f} s.",
      "## Plots\n\n![per generation](generations.png)\n\n![top-1 against size](top1_vs_size.png)",
  ]) + "\n"
  files.write_text(os.path.join(workdir, "report.md"), text)
  if publish_dir:
    publish(workdir, records, named, table, publish_dir)
  return {"table": table, "named": named, "plots": plots, "time_split": split,
          "report": os.path.join(workdir, "report.md")}

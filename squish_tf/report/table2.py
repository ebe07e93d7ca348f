"""The paper's Table 2 for our generations: Pareto naming of SquishedNets, rows, markdown.

Everything comes from a run's records (gen_*/metrics.json), except the 1000-class
SqueezeNet v1.1 reference file, which is built and measured once and cached in the run
directory.
"""

from __future__ import annotations

import os

import numpy as np

from squish_tf import files

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
  # A polished generation replaces its parent: the same network, trained on (were their
  # top-1 equal, neither would dominate and both would be named).
  replaced = {r["generation"] - 1 for r in records if r.get("polish")}
  pool = [r for r in records[1:] if r["top1_val"] >= ancestor["top1_val"] - max_drop
          and r["generation"] not in replaced]
  front = pareto_front(pool)
  if len(front) > max_models:
    picks = np.unique(np.round(np.linspace(0, len(front) - 1, max_models)).astype(int))
    front = [front[i] for i in picks]
  return [{"name": f"SquishedNet-{i + 1}", "generation": r["generation"]}
          for i, r in enumerate(front)]


def reference_squeezenet(workdir: str) -> dict:
  """Size of a float32 .tflite of the 1000-class SqueezeNet v1.1 (cached in the run; a
  damaged cache is measured again)."""
  path = os.path.join(workdir, "reference", "squeezenet_v1_1_1000.json")
  try:
    cached = files.read_json(path)
    if isinstance(cached, dict) and all(isinstance(cached.get(k), int)
                                        for k in ("params", "tflite_bytes")):
      return cached
  except (OSError, ValueError):  # missing, or not JSON
    pass
  from squish_tf.export import litert
  from squish_tf.net import model as model_lib
  net = model_lib.squeezenet(num_classes=1000, image_size=224, seed=0, head_activation="relu")
  data = litert.to_tflite(net)
  figures = {"params": net.count_params(), "tflite_bytes": len(data)}
  files.write_json(path, figures)
  return figures


def mb(n_bytes: float) -> str:
  return f"{n_bytes / 1e6:.3f} MB"


def gen_label(record: dict) -> str:
  """A generation's number, marked when it is the run's last one trained on (--polish_epochs)."""
  return f"{record['generation']} (polished)" if record.get("polish") else str(record["generation"])


def table_rows(records: list[dict], named: list[dict], reference_bytes: int) -> list[list[str]]:
  by_gen = {r["generation"]: r for r in records}
  rows = []
  for label, gen in [("Ancestor (10-class SqueezeNet v1.1)", 0)] + [
      (n["name"], n["generation"]) for n in named]:
    r = by_gen[gen]
    size = r["tflite_bytes"]
    rows.append([label, gen_label(r), mb(size), mb(r["tflite_gzip_bytes"]),
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
  overhead = sum(v for k, v in total.items()
                 if k in ("sample", "surgery", "build", "convert", "benchmark"))
  return {"seconds": {k: round(v, 1) for k, v in total.items()}, "wall_seconds": round(wall, 1),
          "overhead_fraction": round(overhead / wall, 4) if wall else 0.0}

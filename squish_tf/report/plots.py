"""The report's plots: every generation's size, top-1 and speed; top-1 against size."""

from __future__ import annotations

import os

from squish_tf import files


def _save(fig, path: str) -> None:
  """Whole or not at all, like every other file a report writes."""
  with files.atomic_path(path) as tmp:
    fig.savefig(tmp, dpi=110)


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
  _save(fig, per_gen)
  plt.close(fig)

  fig, ax = plt.subplots(figsize=(7, 5))
  points = ax.scatter([r["tflite_bytes"] / 1e6 for r in records],
                      [r["top1_tflite"] for r in records], c=gens, cmap="viridis",
                      label="generations")
  fig.colorbar(points, ax=ax, label="generation")
  by_gen = {r["generation"]: r for r in records}
  for i, n in enumerate(named):
    r = by_gen[n["generation"]]
    # each label a line above the last: SquishedNets often share a top-1 (270 test images)
    ax.annotate(f"{n['name']} (g{n['generation']})", (r["tflite_bytes"] / 1e6, r["top1_tflite"]),
                textcoords="offset points", xytext=(5, 5 + 11 * i), fontsize=8,
                arrowprops={"arrowstyle": "-", "linewidth": 0.5, "color": "grey"})
  ax.margins(y=0.05 + 0.04 * len(named))  # room above the top point for its label
  # to the left: the ancestor is the largest point, at the right edge
  ax.annotate("ancestor", (records[0]["tflite_bytes"] / 1e6, records[0]["top1_tflite"]),
              textcoords="offset points", xytext=(-5, -12), fontsize=8, ha="right")
  ax.set_xlabel(".tflite size (MB, float32)")
  ax.set_ylabel("test top-1 (LiteRT)")
  ax.set_title("top-1 against size")
  ax.grid(alpha=0.3)
  fig.tight_layout()
  front = os.path.join(out_dir, "top1_vs_size.png")
  _save(fig, front)
  plt.close(fig)
  return [per_gen, front]

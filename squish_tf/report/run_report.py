"""The run report: `report.md` with the paper's Table 2 for our generations, every
generation's figures, where the time went, and the plots; optionally the tflite/ release.
"""

from __future__ import annotations

import os

from squish_tf import files
from squish_tf.config import RELEASE_LATENCY_SECONDS
from squish_tf.net import arch
from squish_tf.report import plots, publish, table2
from squish_tf.report.release_dir import release_dir
from squish_tf.report.table2 import gen_label, markdown_table, mb
from squish_tf.rundir import RunDir


def _folded_note(config: dict | None, ancestor: dict) -> str:
  """At a release size that leaves fire6-9 at 1x1 the files store no inert taps: a saving of
  the input size, not of the evolution, which the ratios to 224x224 networks include."""
  size = (config or {}).get("image_size")
  inert = arch.inert_params(ancestor.get("spec") or arch.ancestor_spec(), size) if size else 0
  if not inert:
    return ""
  full = ancestor["tflite_bytes"] + 4 * inert
  fires = "/".join(n.split("_")[0][4:] for n in arch.inert_taps(size))
  return (f" at the release size, {size}x{size}, where fire{fires}'s expand3x3 layers see one "
          f"pixel and their 8 padding-only taps are not stored ({inert:,} of the ancestor's "
          f"{ancestor['params_total']:,} weights): at 224x224 the ancestor's file would be about "
          f"{mb(full)}, so the ratios to SqueezeNet v1.1 and AlexNet (224x224 networks) include "
          f"that saving of the input size")


def bench_threads(records: list[dict]) -> str:
  """The interpreter threads the generations were timed on: --threads (or, without it, the
  core count) may change on a resume, so generation 0's figure could misname the later ones."""
  counts = sorted({r["bench_threads"] for r in records})
  if len(counts) == 1:
    return f"{counts[0]} threads"
  return f"{' or '.join(map(str, counts))} threads (changed on a resume)"


def write_report(workdir: str, publish_dir: str | None = None, max_drop: float = 0.02,
                 max_models: int = 4, out_dir: str | None = None,
                 latency_seconds: float = RELEASE_LATENCY_SECONDS) -> dict:
  """Writes report.md, squishednets.json, the plots and the named models in the tflite/
  layout (`release/`) into `out_dir` (the run directory by default); with `publish_dir`,
  the release goes there instead (e.g. the repository's tflite/); with none named, no
  release is written. Each released file is timed for `latency_seconds` per thread count."""
  run = RunDir(workdir)
  records = run.records_to_report()
  stopped = run.read_state().get("stopped")
  release = release_dir(workdir, out_dir, publish_dir)  # refused before anything is written
  out_dir = out_dir or workdir
  files.ensure_writable_dir(out_dir, flag="--out (the report's directory)")
  named = table2.name_squishednets(records, max_drop, max_models)
  files.write_json(os.path.join(out_dir, "squishednets.json"), named)
  reference = table2.reference_squeezenet(out_dir)
  table = markdown_table(table2.TABLE_HEAD,
                         table2.table_rows(records, named, reference["tflite_bytes"]))
  bench_size = records[0]["bench_image_size"]
  plot_paths = plots.plot(records, named, out_dir, bench_size)
  split = table2.time_split(records)
  paper = markdown_table(["Model", "Size", "vs SqueezeNet v1.1", "Images/s (Jetson TX1, b32)",
                          "Top-1 (ImageNet-10)"],
                         [[n, f"{size} MB", f"{table2.PAPER_SQUEEZENET_MB / size:.2f}x",
                           f"{ips}", f"{top1}%"] for n, size, ips, top1 in table2.PAPER_TABLE])
  per_gen = markdown_table(
      ["Gen", "Params", "Alive", "MMACs", "Size", "Gzipped", "Top-1 val", "Top-1 test (LiteRT)",
       "img/s b1", "img/s b32", "p50 ms", "train s"],
      [[gen_label(r), f"{r['params_total']:,}", f"{r['params_alive']:,}",
        f"{r['macs'] / 1e6:.1f}", mb(r["tflite_bytes"]), mb(r["tflite_gzip_bytes"]),
        f"{r['top1_val']:.4f}", f"{r['top1_tflite']:.4f}", f"{r['images_per_sec_b1']:.1f}",
        f"{r['images_per_sec_b32']:.1f}", f"{r['latency_ms_p50']:.2f}",
        f"{r['train_seconds']:.1f}"] for r in records])
  if any(r.get("tflite_int8_bytes") for r in records):
    per_gen += "\n\nint8 (post-training, verified against float32):\n\n" + markdown_table(
        ["Gen", "int8 size", "Top-1 test (LiteRT, int8)"],
        [[gen_label(r),
          mb(r["tflite_int8_bytes"]) if r.get("tflite_int8_bytes") else "refused",
          f"{r['top1_tflite_int8']:.4f}" if r.get("top1_tflite_int8") is not None else "-"]
         for r in records])
  threads = bench_threads(records)
  text = "\n\n".join([
      f"# squish_tf run report: `{workdir}`",
      f"{len(records) - 1} generations after the ancestor."
      + (f" The run stopped early: {stopped}." if stopped else ""),
      f"## SquishedNets (the paper's Table 2 columns)\n\nSizes are float32 `.tflite` files"
      f"{_folded_note(run.read_config(), records[0])}. "
      f"Our 1000-class SqueezeNet v1.1 `.tflite` measures {mb(reference['tflite_bytes'])} "
      f"({reference['params']:,} parameters). Images/s: LiteRT interpreter, batch 32, "
      f"{bench_size}x{bench_size}, {threads} on this machine (the paper used a Jetson "
      f"TX1 GPU, so compare ratios, not absolute figures).\n\n{table}",
      f"## The paper's Table 2, for reference\n\n{paper}",
      f"## Every generation\n\n{per_gen}",
      "## Where the time went\n\n" + markdown_table(
          ["phase", "seconds"], [[k, f"{v:.1f}"] for k, v in sorted(split["seconds"].items())])
      + f"\n\nSampling, surgery, conversion and benchmarking: "
        f"{100 * split['overhead_fraction']:.1f}% of {split['wall_seconds']:.0f} s.",
      "## Plots\n\n![per generation](generations.png)\n\n![top-1 against size](top1_vs_size.png)",
  ]) + "\n"
  files.write_text(os.path.join(out_dir, "report.md"), text)
  if named:  # an empty release would replace the last one with nothing
    publish.publish(workdir, records, named, table, release, latency_seconds)
  return {"table": table, "named": named, "plots": plot_paths, "time_split": split,
          "report": os.path.join(out_dir, "report.md"), "release": release}

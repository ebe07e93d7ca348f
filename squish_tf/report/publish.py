"""Publishing: the named SquishedNets of a run, in the tflite/ layout a phone app ships.

  <publish_dir>/models.json, MODELS.md
  <publish_dir>/<name>/model.tflite, [model_int8.tflite], labels.txt, preprocess.json, model.json
The release is replaced whole (`files.atomic_dir`): a reader never sees half of one.
"""

from __future__ import annotations

import os
import shutil

from squish_tf import files
from squish_tf.data import preprocess
from squish_tf.net import arch
from squish_tf.rundir import RunDir


def publish(workdir: str, records: list[dict], named: list[dict], table: str,
            publish_dir: str) -> None:
  """Writes the named SquishedNets in the tflite/ layout, replacing the old release whole."""
  run = RunDir(workdir)
  cfg = run.read_config()
  labels = "\n".join(run.read_labels()) + "\n"
  by_gen = {r["generation"]: r for r in records}
  with files.atomic_dir(publish_dir) as staging:
    _stage(run, cfg, labels, by_gen, named, table, records, staging)


def _stage(run, cfg, labels, by_gen, named, table, records, staging) -> None:
  index = []
  for n in named:
    r = by_gen[n["generation"]]
    slug = n["name"].lower()
    out = os.path.join(staging, slug)
    os.makedirs(out)
    for name in ("model.tflite", "model_int8.tflite"):
      source = run.gen_file(n["generation"], name)
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

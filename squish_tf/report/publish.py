"""Publishing: the named SquishedNets of a run, in the layout a phone app ships (`tflite/`).

  <publish_dir>/models.json      format squish_tf.models/2: every model and every file, with
                                 its sha256, size, tensor contract (names, shapes, dtypes,
                                 int8 scale and zero point), top-1 and latency at its own
                                 input size, and its predictions on the check images
  <publish_dir>/check_images.npz the first test images of the data set (raw uint8) and labels
  <publish_dir>/MODELS.md        the same for people
  <publish_dir>/<name>/          model.tflite, model_int8.tflite (when the run made one),
                                 labels.txt, preprocess.json, model.json
The labels and the preprocessing contract live beside each file rather than inside its
metadata: the library that writes TFLite metadata (tflite-support) was last released in July
2023 and requires protobuf < 4, which TensorFlow 2.21 (protobuf >= 6.31) cannot load beside.
The release is replaced whole (`files.atomic_dir`): a reader never sees half of one.
"""

from __future__ import annotations

import hashlib
import os
import shutil

import numpy as np

from squish_tf import data, files
from squish_tf.bench import litert_bench
from squish_tf.data import preprocess
from squish_tf.export import runtime
from squish_tf.net import arch
from squish_tf.report.release_dir import MODELS_INDEX
from squish_tf.rundir import RunDir

MODELS_FORMAT = "squish_tf.models/2"
CHECK_FILE = "check_images.npz"
CHECK_IMAGES = 500
FILES = (("model.tflite", "float32", "top1_tflite"), ("model_int8.tflite", "int8",
                                                      "top1_tflite_int8"))


def publish(workdir: str, records: list[dict], named: list[dict], table: str,
            publish_dir: str, latency_seconds: float) -> dict:
  """Writes the named SquishedNets in the release layout, replacing the old release whole;
  returns the models.json it wrote. Each file is timed for `latency_seconds` per thread
  count."""
  run = RunDir(workdir)
  cfg = run.read_config()
  by_gen = {r["generation"]: r for r in records}
  with files.atomic_dir(publish_dir, MODELS_INDEX, "--publish_dir") as staging:
    check_x, check_y = write_check_images(cfg, os.path.join(staging, CHECK_FILE))
    models = [_stage_model(run, cfg, by_gen[n["generation"]], n["name"], staging)
              for n in named]
    _measure(models, staging, cfg["image_size"], check_x, check_y, latency_seconds)
    index = {"format": MODELS_FORMAT, "dataset": cfg["dataset"], "split_seed": cfg["seed"],
             "check_images": {"file": CHECK_FILE, "split": "test", "images": int(len(check_y)),
                              "what": f"the first {len(check_y)} test images, raw uint8"},
             "models": models}
    files.write_json(os.path.join(staging, MODELS_INDEX), index)
    files.write_text(os.path.join(staging, "MODELS.md"),
                     _models_md(index, cfg, table, latency_seconds))
  return index


def write_check_images(cfg: dict, path: str):
  """The first CHECK_IMAGES test images, raw (before preprocessing), and their labels."""
  raw = data.load_raw(cfg["dataset"], cfg.get("data_dir"), cfg["seed"])
  images, labels = [], []
  for image, label in raw.splits["test"].take(CHECK_IMAGES).as_numpy_iterator():
    images.append(image)
    labels.append(label)
  sizes = {im.shape for im in images}
  stacked = np.stack(images) if len(sizes) == 1 else np.array(images, dtype=object)
  np.savez_compressed(path, images=stacked, labels=np.array(labels, np.int32))
  x = np.stack([preprocess.preprocess(im, cfg["image_size"]).numpy() for im in images])
  return x, np.array(labels, np.int32)


def _stage_model(run: RunDir, cfg: dict, record: dict, title: str, staging: str) -> dict:
  slug = title.lower()
  out = os.path.join(staging, slug)
  os.makedirs(out)
  files.write_text(os.path.join(out, "labels.txt"), "\n".join(run.read_labels()) + "\n")
  files.write_json(os.path.join(out, "preprocess.json"), preprocess.contract(cfg["image_size"]))
  keep = ("generation", "params_total", "params_alive", "macs_release", "top1_val", "top1_keras",
          "top1_tflite", "tflite_bytes", "tflite_gzip_bytes", "tflite_int8_bytes",
          "top1_tflite_int8", "spec", "polish")
  files.write_json(os.path.join(out, "model.json"),
                   {"name": title, "dataset": cfg["dataset"], "data_seed": cfg["seed"],
                    "image_size": cfg["image_size"], **{k: record[k] for k in keep if k in record}})
  entry = {"name": slug, "title": title, "dir": slug, "dataset": cfg["dataset"],
           "num_classes": record["spec"][arch.HEAD], "image_size": cfg["image_size"],
           "labels": "labels.txt", "preprocess": "preprocess.json",
           "generation": record["generation"], "params": record["params_total"],
           "macs": arch.macs(record["spec"], cfg["image_size"]), "files": []}
  for name, precision, top1_key in FILES:
    source = run.gen_file(record["generation"], name)
    if not os.path.exists(source):
      continue
    shutil.copyfile(source, os.path.join(out, name))
    with open(source, "rb") as f:
      blob = f.read()
    entry["files"].append({"file": name, "precision": precision,
                           "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob),
                           **{k: v for k, v in files.sizes(source).items() if k == "gzip_bytes"},
                           "top1": record.get(top1_key), **tensor_contract(blob)})
  return entry


def tensor_contract(blob: bytes) -> dict:
  """Input and output tensors as an app addresses them: signature names, shapes, dtypes and,
  for integer tensors, scale and zero point."""
  interp = runtime.interpreter(model_content=blob)
  signature = interp.get_signature_list()["serving_default"]
  out = {}
  for side, detail, name in (("input", interp.get_input_details()[0], signature["inputs"][0]),
                             ("output", interp.get_output_details()[0],
                              signature["outputs"][0])):
    tensor = {"name": name, "shape": [int(d) for d in detail["shape"]],
              "dtype": np.dtype(detail["dtype"]).name}
    scale, zero_point = detail["quantization"]
    if tensor["dtype"] != "float32":
      tensor.update(scale=float(np.float32(scale)), zero_point=int(zero_point))
    out[side] = tensor
  return out


def _measure(models: list[dict], staging: str, image_size: int, check_x, check_y,
             latency_seconds: float) -> None:
  """Latency at the release size (side by side: 1 thread, all cores) and the predictions on
  the check images, per file."""
  paths = [os.path.join(staging, m["dir"], f["file"]) for m in models for f in m["files"]]
  if not paths:
    return
  latency = {}
  for tag, threads in (("", 1), ("_all", os.cpu_count())):
    results = litert_bench.benchmark(paths, image_size=image_size, threads=threads,
                                     batch_sizes=(1,), seconds=latency_seconds, rounds=5)
    for path, r in zip(paths, results):
      latency.setdefault(path, {})[f"latency_ms_p50_b1{tag}"] = r["latency_ms_p50"]
  for m in models:
    for f in m["files"]:
      path = os.path.join(staging, m["dir"], f["file"])
      f.update(latency[path], latency_threads=1, latency_threads_all=os.cpu_count(),
               latency_seconds=latency_seconds)
      predictions = runtime.predict(runtime.interpreter(model_path=path), check_x).argmax(1)
      f["check"] = {"top1": float(np.mean(predictions == check_y)),
                    "predictions": [int(p) for p in predictions]}


def _models_md(index: dict, cfg: dict, table: str, latency_seconds: float) -> str:
  rows = []
  for m in index["models"]:
    for f in m["files"]:
      rows.append(f"| {m['title']} | {f['precision']} | {f['bytes'] / 1e3:,.1f} KB | "
                  f"{100 * f['top1']:.1f}% | {f['latency_ms_p50_b1']:.3f} ms | "
                  f"{f['latency_ms_p50_b1_all']:.3f} ms | `{f['sha256'][:16]}...` |"
                  if f["top1"] is not None else "")
  head = ("| Model | Precision | Size | Test top-1 (LiteRT) | p50 batch 1, 1 thread | "
          f"p50 batch 1, {os.cpu_count()} threads | sha256 |\n|---|---|---|---|---|---|---|")
  size, bench = cfg["image_size"], cfg.get("bench_image_size", 224)
  throughput = f"{bench}x{bench}" + (", the paper's size" if bench == 224 else "")
  return (f"# Released SquishedNets\n\nFrom a `squish-evolve` run on `{cfg['dataset']}` (split "
          f"seed {cfg['seed']}), input {size}x{size} (preprocessing in each `preprocess.json`, "
          f"tensors in `models.json`). Latency: LiteRT interpreter at {size}x{size}, batch 1, "
          f"{latency_seconds:g} s per file and thread count, measured side by side on the "
          f"machine that published it.\n\n{head}\n"
          + "\n".join(r for r in rows if r) + f"\n\nThe run's Table 2 (throughput at "
          f"{throughput}):\n\n{table}\n")

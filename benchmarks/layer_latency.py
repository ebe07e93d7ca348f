"""Which layers cost a squished network its time on LiteRT/XNNPACK.

  python benchmarks/layer_latency.py --models=A.keras,B.keras [--image_size=32] [--threads=1]
      [--layers=conv1,fire2_squeeze1x1]

For each model's filter counts (random weights: speed does not depend on their values), times
the network as it is, and once for each conv layer but conv10 (or each of `--layers`) with
that layer `--step` filters narrower and once `--step` wider, all side by side in one process
at batch 1. A layer's row says what one step costs there: parameters, MACs and microseconds.
The network as it is is timed `--copies` times (separate files), and their spread is the
noise floor a step's microseconds must clear. Writes results/layer_latency[_TAG].{json,md}.
"""

from __future__ import annotations

import os
import statistics
import tempfile

from absl import flags

import results  # benchmarks/results.py, beside this script

flags.DEFINE_list("models", None, "Trained .keras files whose filter counts are timed.",
                  required=True)
flags.DEFINE_list("labels", None, "A name per model (default: the parent directory's).")
flags.DEFINE_list("layers", None, "Conv layers to step (default: every one but conv10).")
flags.DEFINE_integer("image_size", 32, "Input side (the release size).", lower_bound=32)
flags.DEFINE_integer("threads", 1, "Interpreter threads.", lower_bound=1)
flags.DEFINE_integer("step", 8, "Filters one step adds or removes.", lower_bound=1)
flags.DEFINE_integer("copies", 3, "Files of the unchanged network (the noise floor).",
                     lower_bound=2)
flags.DEFINE_float("seconds", 1.0, "Measuring seconds per file.")
flags.DEFINE_integer("rounds", 5, "Interleaved rounds the seconds are split over.")
flags.DEFINE_string("tag", "", "Suffix of the results files' names.")
flags.DEFINE_string("results_dir", results.RESULTS_DIR, "Where the results files go.")
FLAGS = flags.FLAGS


def stepped(spec: dict, layer: str, delta: int) -> dict | None:
  """`spec` with `layer` `delta` filters wider (None when that leaves it with none)."""
  if spec[layer] + delta < 1:
    return None
  return {**spec, layer: spec[layer] + delta}


def steppable_layers(names: list[str] | None) -> list[str]:
  """The layers --layers names, in network order (default: every conv layer but the head,
  whose width is the class count)."""
  from squish_tf.errors import UserError
  from squish_tf.net import arch
  allowed = [n for n in arch.CONV_LAYERS if n != arch.HEAD]
  names = [n for n in names or () if n]  # --layers=conv1, names conv1 alone
  unknown = sorted(set(names) - set(allowed))
  if unknown:
    raise UserError(f"--layers: {', '.join(unknown)} is not a steppable conv layer; choose "
                    f"from {allowed[0]} ... {allowed[-1]} (not {arch.HEAD})")
  return [n for n in allowed if not names or n in names]


def variants(spec: dict, step: int, copies: int,
             layers: list[str]) -> list[tuple[str, int, dict]]:
  """(layer or "", delta, spec): the network `copies` times, then each layer a step either way."""
  out = [("", 0, spec)] * copies
  for layer in layers:
    for delta in (-step, step):
      changed = stepped(spec, layer, delta)
      if changed is not None:
        out.append((layer, delta, changed))
  return out


def layer_rows(label: str, timed: list[dict]) -> tuple[list[dict], dict]:
  """Per layer, what a step narrower saves and a step wider costs; and the copies' figures."""
  base = [t for t in timed if not t["layer"]]
  ref = statistics.median(t["p50_us"] for t in base)
  rows = {}
  for t in timed:
    if not t["layer"]:
      continue
    row = rows.setdefault(t["layer"], {"model": label, "layer": t["layer"],
                                       "width": t["width"]})
    key = "narrower" if t["delta"] < 0 else "wider"
    row[key] = {"params": t["params"] - base[0]["params"], "macs": t["macs"] - base[0]["macs"],
                "us": round(t["p50_us"] - ref, 2)}
  floor = {"model": label, "params": base[0]["params"], "macs": base[0]["macs"],
           "p50_us": [t["p50_us"] for t in base],
           "spread_us": round(max(t["p50_us"] for t in base) - min(t["p50_us"] for t in base), 2)}
  return list(rows.values()), floor


def _cell(change: dict | None) -> str:
  if change is None:
    return "-"
  return f"{change['params']:+,d} / {change['macs'] / 1000:+.1f} k / {change['us']:+.2f}"


def main(argv):
  del argv
  layers = steppable_layers(FLAGS.layers)
  from squish_tf.cli import common
  common.start_tensorflow()
  import keras

  from squish_tf import files
  from squish_tf.bench import litert_bench
  from squish_tf.errors import UserError
  from squish_tf.export import litert
  from squish_tf.net import arch, model
  from squish_tf.report.table2 import markdown_table
  labels = FLAGS.labels or [os.path.basename(os.path.dirname(os.path.abspath(p)))
                            for p in FLAGS.models]
  if len(labels) != len(FLAGS.models):
    raise UserError(f"--labels names {len(labels)} models but --models has "
                    f"{len(FLAGS.models)}; give one label per model")
  if len(set(labels)) != len(labels):
    raise UserError(f"two models share a label ({', '.join(labels)}); name each with "
                    f"--labels")
  timed = []
  with tempfile.TemporaryDirectory() as tmp:
    for label, path in zip(labels, FLAGS.models):
      if not os.path.isfile(path):
        raise UserError(f"--models: {path} does not exist; pass trained .keras files")
      spec = model.spec_of(keras.saving.load_model(path, compile=False))
      steps = variants(spec, FLAGS.step, FLAGS.copies, layers)
      for i, (layer, delta, changed) in enumerate(steps):
        tflite = os.path.join(tmp, f"{label}_{i}.tflite")
        files.write_bytes(tflite, litert.to_tflite(
            model.squeezenet(changed, changed[arch.HEAD], image_size=FLAGS.image_size, seed=0)))
        timed.append({"model": label, "layer": layer, "delta": delta, "path": tflite,
                      "width": spec[layer] if layer else None,
                      "params": arch.param_count(changed),
                      "macs": arch.macs(changed, FLAGS.image_size)})
    speed = litert_bench.benchmark([t["path"] for t in timed], image_size=FLAGS.image_size,
                                   threads=FLAGS.threads, batch_sizes=(1,),
                                   seconds=FLAGS.seconds, rounds=FLAGS.rounds)
  for t, s in zip(timed, speed):
    del t["path"]
    t["p50_us"] = round(1000.0 * s["latency_ms_p50"], 2)
  rows, floors = [], []
  for label in labels:
    r, f = layer_rows(label, [t for t in timed if t["model"] == label])
    rows += r
    floors.append(f)
  table = markdown_table(
      ["model", "layer", "width", "step narrower: params / MACs / us", "step wider: same"],
      [[r["model"], r["layer"], str(r["width"]), _cell(r.get("narrower")),
        _cell(r.get("wider"))] for r in rows])
  noise = "\n".join(
      f"- {f['model']}: {f['params']:,} parameters, {f['macs'] / 1e6:.3f} MMACs; its "
      f"{len(f['p50_us'])} copies timed {', '.join(f'{u:.2f}' for u in f['p50_us'])} us "
      f"(spread {f['spread_us']:.2f} us)" for f in floors)
  name = "layer_latency" + (f"_{FLAGS.tag}" if FLAGS.tag else "")
  command = (f"python benchmarks/layer_latency.py --models={','.join(FLAGS.models)} "
             f"--labels={','.join(labels)} --image_size={FLAGS.image_size} "
             f"--threads={FLAGS.threads} --step={FLAGS.step} --copies={FLAGS.copies} "
             f"--seconds={FLAGS.seconds:g} --rounds={FLAGS.rounds}"
             + (f" --layers={','.join(layers)}" if FLAGS.layers else "")
             + (f" --tag={FLAGS.tag}" if FLAGS.tag else ""))
  result = {"command": command, "image_size": FLAGS.image_size, "threads": FLAGS.threads,
            "step": FLAGS.step, "cpu_count": os.cpu_count(), "networks": floors,
            "layers": rows, "timed": timed}
  results.write(name, result, results_dir=FLAGS.results_dir, markdown=(
      f"# Which layers cost the time: one step of {FLAGS.step} filters per layer\n\n"
      f"`{command}`\n\nBatch 1, {FLAGS.image_size}x{FLAGS.image_size}, {FLAGS.threads} "
      f"thread(s), p50 of {FLAGS.rounds} interleaved rounds in one process; random weights. "
      f"Each change is against the median of the unchanged network's copies.\n\n{noise}\n\n"
      f"{table}\n"))
  print(noise)
  print(table)


if __name__ == "__main__":
  from squish_tf.cli import common
  common.run(main)  # quiet library logs; a UserError prints one line and exits 2

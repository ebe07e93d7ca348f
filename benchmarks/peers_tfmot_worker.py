"""The tfmot peer of compare_peers.py: magnitude pruning of the ancestor, in legacy Keras.

  python benchmarks/peers_tfmot_worker.py DIR

tfmot 0.8.1 wraps only tf_keras models, and a process picks its Keras before TensorFlow is
first imported, so compare_peers.py (Keras 3) runs this file as its own process. DIR holds
request.json, weights.npz (`<layer>.kernel`, `<layer>.bias` of the ancestor) and check.npz
(images and the Keras 3 ancestor's probabilities on them). This process rebuilds the
ancestor with `squish_tf.legacy_model`, checks it predicts what Keras 3 did, loads the same
splits with `squish_tf.data`, prunes with `prune_low_magnitude` while fine-tuning, strips
the wrappers, and writes the float32 .tflite at the training size and at the benchmark
size (the same weights in a rebuilt 224x224 graph). It answers with result.json, or
error.json ({"type", "message"}).
"""

from __future__ import annotations

import os
import sys
import time

from squish_tf import legacy_worker

REBUILD_MAX_ABS_DIFF = 1e-4


def _staged_schedule(sparsities: list[float], stage_steps: int):
  """A tfmot PruningSchedule that mirrors the evolution's generations.

  Stage g (stage_steps training steps, starting with a pruning step) prunes to
  sparsities[g], the sparsity of the evolution's lineage after generation g + 1; the
  mask then holds while the stage fine-tunes, as the evolution fine-tunes each offspring.
  """
  import tensorflow as tf
  import tensorflow_model_optimization as tfmot

  class StagedSparsity(tfmot.sparsity.keras.PruningSchedule):

    def __init__(self, sparsities, stage_steps):
      for i, value in enumerate(sparsities):
        self._validate_sparsity(value, f"sparsities[{i}]")
      self.sparsities, self.stage_steps = list(sparsities), int(stage_steps)

    def __call__(self, step):
      step = tf.cast(step, tf.int64)
      stage = tf.math.floordiv(step, self.stage_steps)
      last = len(self.sparsities) - 1
      should = tf.logical_and(tf.equal(tf.math.floormod(step, self.stage_steps), 0),
                              tf.less_equal(stage, last))
      sparsity = tf.gather(tf.constant(self.sparsities, tf.float32),
                           tf.minimum(stage, last))
      return should, sparsity

    def get_config(self):
      return {"class_name": self.__class__.__name__,
              "config": {"sparsities": self.sparsities, "stage_steps": self.stage_steps}}

  return StagedSparsity(sparsities, stage_steps)


def _weights_by_name(net, names) -> dict:
  return {n: tuple(net.get_layer(n).get_weights()) for n in names}


def run(workdir: str) -> dict:
  import numpy as np
  import tensorflow_model_optimization as tfmot
  import tf_keras
  from squish_tf import data, files, legacy_model, litert

  req = files.read_json(os.path.join(workdir, "request.json"))
  names = list(req["spec"])
  with np.load(os.path.join(workdir, "weights.npz")) as saved:
    weights = {n: (saved[f"{n}.kernel"], saved[f"{n}.bias"]) for n in names}
  with np.load(os.path.join(workdir, "check.npz")) as saved:
    check_x, check_p = saved["images"], saved["probs"]

  tf_keras.utils.set_random_seed(req["seed"])
  net = legacy_model.squeezenet(req["spec"], req["image_size"], req["dropout"],
                                req["head_activation"])
  legacy_model.set_weights(net, weights)
  diff = float(np.max(np.abs(net.predict(check_x, verbose=0) - check_p)))
  if diff > REBUILD_MAX_ABS_DIFF:
    raise RuntimeError(f"the tf_keras rebuild of the ancestor predicts differently from Keras 3 "
                       f"(max |diff| {diff:.2e})")

  splits = data.load(req["dataset"], req["image_size"], req["data_dir"], req["data_seed"])
  steps_per_epoch = -(-splits.sizes["train"] // req["batch_size"])
  total_steps = steps_per_epoch * req["epochs"]
  stages = req["sparsities"]
  stage_steps = max(1, total_steps // len(stages))
  pruned = tfmot.sparsity.keras.prune_low_magnitude(
      net, pruning_schedule=_staged_schedule(stages, stage_steps))
  # The evolution's recipe per generation (squish_tf.train.fit): Adam, cosine decay to zero,
  # restarted at every stage.
  lr = tf_keras.optimizers.schedules.CosineDecayRestarts(req["learning_rate"], stage_steps,
                                                         t_mul=1.0, m_mul=1.0)
  pruned.compile(optimizer=tf_keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                 metrics=["accuracy"])
  start = time.perf_counter()
  history = pruned.fit(data.batches(splits.train, req["batch_size"], shuffle_seed=req["seed"]),
                       validation_data=data.batches(splits.validation, 256),
                       epochs=req["epochs"], verbose=2,
                       callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
  train_seconds = time.perf_counter() - start
  stripped = tfmot.sparsity.keras.strip_pruning(pruned)

  trained = _weights_by_name(stripped, names)
  kernels = sum(k.size for k, _ in trained.values())
  nonzero_kernels = int(sum(np.count_nonzero(k) for k, _ in trained.values()))
  biases = sum(b.size for _, b in trained.values())
  out = req["out_dir"]
  os.makedirs(out, exist_ok=True)
  native = litert.to_tflite(stripped)
  files.write_bytes(os.path.join(out, "model.tflite"), native)
  big = legacy_model.squeezenet(req["spec"], req["bench_image_size"], req["dropout"],
                                req["head_activation"])
  legacy_model.set_weights(big, trained)
  files.write_bytes(os.path.join(out, f"model_{req['bench_image_size']}.tflite"),
                    litert.to_tflite(big))
  val = history.history.get("val_accuracy", [None])[-1]
  return {
      "rebuild_max_abs_diff": diff,
      "target_sparsity": stages[-1],
      "kernel_sparsity": round(1.0 - nonzero_kernels / kernels, 5),
      "params_total": int(kernels + biases),
      "params_nonzero": int(nonzero_kernels + int(sum(np.count_nonzero(b) for _, b in trained.values()))),
      "epochs": req["epochs"],
      "schedule": {"kind": "staged, one stage per generation", "sparsities": stages,
                   "stage_steps": stage_steps, "total_steps": total_steps,
                   "learning_rate": "cosine decay restarted every stage"},
      "train_seconds": round(train_seconds, 2),
      "top1_val_keras": None if val is None else round(float(val), 5),
  }


def main(argv: list[str]) -> int:
  return legacy_worker.serve(argv, "python benchmarks/peers_tfmot_worker.py", run)


if __name__ == "__main__":
  sys.exit(main(sys.argv))

"""tfmot magnitude pruning of a trained network, in legacy Keras (a baseline for the evolution).

  python -m squish_tf.legacy.prune_worker WORKDIR   (started by `run_worker`, see `worker`)

The request names the network (spec and builder options, weights in weights.npz), the data
set (name, data_dir, split seed), the training recipe (epochs, batch size, learning rate,
seed) and a list of sparsities: one pruning stage each, a pruning step at its start, then
fine-tuning with the mask held, the learning rate's cosine decay restarted every stage (as
squish_tf's evolution fine-tunes each generation). The wrappers are stripped and the
float32 .tflite written at the training size and at `bench_image_size` (the same weights in
a rebuilt graph). data.npz carries check_images/check_probs from the Keras 3 network.
"""

from __future__ import annotations

import os
import sys
import time

from squish_tf.legacy import worker


def _staged_schedule(sparsities: list[float], stage_steps: int):
  """A tfmot PruningSchedule: stage g (stage_steps training steps, starting with a pruning
  step) prunes to sparsities[g]; the mask then holds while the stage fine-tunes."""
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
      sparsity = tf.gather(tf.constant(self.sparsities, tf.float32), tf.minimum(stage, last))
      return should, sparsity

    def get_config(self):
      return {"class_name": self.__class__.__name__,
              "config": {"sparsities": self.sparsities, "stage_steps": self.stage_steps}}

  return StagedSparsity(sparsities, stage_steps)


def run(workdir: str) -> dict:
  import numpy as np
  import tensorflow_model_optimization as tfmot
  import tf_keras

  from squish_tf import data, files
  from squish_tf.export import litert
  from squish_tf.legacy import model as legacy_model

  req, weights, _, arrays = worker.read_inputs(workdir)
  tf_keras.utils.set_random_seed(req["seed"])
  net = legacy_model.rebuild(req, weights)
  diff = legacy_model.check_rebuild(net, arrays["check_images"], arrays["check_probs"])

  splits = data.load(req["dataset"], req["image_size"], req["data_dir"], req["data_seed"])
  steps_per_epoch = -(-splits.sizes["train"] // req["batch_size"])
  total_steps = steps_per_epoch * req["epochs"]
  stages = req["sparsities"]
  stage_steps = max(1, total_steps // len(stages))
  pruned = tfmot.sparsity.keras.prune_low_magnitude(
      net, pruning_schedule=_staged_schedule(stages, stage_steps))
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

  trained = {n: tuple(stripped.get_layer(n).get_weights()) for n in req["spec"]}
  kernels = sum(k.size for k, _ in trained.values())
  nonzero_kernels = int(sum(np.count_nonzero(k) for k, _ in trained.values()))
  biases = sum(b.size for _, b in trained.values())
  nonzero_biases = int(sum(np.count_nonzero(b) for _, b in trained.values()))
  out = req["out_dir"]
  files.write_bytes(os.path.join(out, "model.tflite"), litert.to_tflite(stripped))
  big = legacy_model.rebuild({**req, "image_size": req["bench_image_size"]}, trained)
  files.write_bytes(os.path.join(out, f"model_{req['bench_image_size']}.tflite"),
                    litert.to_tflite(big))
  val = history.history.get("val_accuracy", [None])[-1]
  return {
      "rebuild_max_abs_diff": diff,
      "target_sparsity": stages[-1],
      "kernel_sparsity": round(1.0 - nonzero_kernels / kernels, 5),
      "params_total": int(kernels + biases),
      "params_nonzero": nonzero_kernels + nonzero_biases,
      "epochs": req["epochs"],
      "schedule": {"kind": "staged", "sparsities": stages, "stage_steps": stage_steps,
                   "total_steps": total_steps,
                   "learning_rate": "cosine decay restarted every stage"},
      "train_seconds": round(train_seconds, 2),
      "top1_val_keras": None if val is None else round(float(val), 5),
  }


def main(argv: list[str]) -> int:
  return worker.serve(argv, "python -m squish_tf.legacy.prune_worker", run)


if __name__ == "__main__":
  sys.exit(main(sys.argv))

"""One offspring, from plain data: draw its genome, squish it, fine-tune it, validate it.

`offspring_task` takes and returns only numpy arrays and plain Python values, so an
executor (`executors`) may run it in this process, another one, or on another machine;
the same inputs give the same result.
"""

from __future__ import annotations

import functools

from squish_tf import config as config_lib
from squish_tf import data, train
from squish_tf.evolve import genome, masking, surgery
from squish_tf.evolve.clock import PhaseClock
from squish_tf.net import model as model_lib
from squish_tf.train import distribute


@functools.lru_cache(maxsize=2)
def splits(dataset: str, image_size: int, data_dir, seed: int) -> data.DataSplits:
  """The run's data, loaded once per process (offspring tasks share it)."""
  return data.load(dataset, image_size, data_dir, seed)


def model_seed(seed: int, generation: int, offspring: int) -> int:
  return (seed * 1_000 + generation) * 100 + offspring


def offspring_task(cfg: config_lib.EvolveConfig, parent_spec: dict, parent_weights: dict,
                   parent_masks: dict, generation: int, k: int) -> dict:
  """Draws, squishes and fine-tunes offspring k of a generation.

  Returns {"offspring", "top1_val", "spec", "weights", "masks", "phase_seconds"}.
  """
  clock = PhaseClock()
  ds = splits(cfg.dataset, cfg.image_size, cfg.data_dir, cfg.seed)
  with clock.time("sample"):
    rng = genome.generation_rng(cfg.seed, generation, k)
    masks = genome.sample_offspring(parent_weights, parent_masks, cfg.r_syn, cfg.r_clu,
                                    cfg.synthesis, rng)
  strategy = distribute.make_strategy(cfg.strategy)
  with clock.time("surgery"), strategy.scope():  # built, compiled and fitted in one strategy
    squished = surgery.squish(parent_spec, parent_weights, masks)
    net = model_lib.squeezenet(squished.spec, ds.num_classes, image_size=cfg.image_size,
                               seed=model_seed(cfg.seed, generation, k))
    if cfg.offspring_init == "inherit":
      model_lib.set_weights(net, squished.weights)
    masking.apply_masks(net, squished.masks)
  with clock.time("train"), strategy.scope():
    epochs = cfg.finetune_epochs if cfg.offspring_init == "inherit" else cfg.epochs
    train.fit(net, ds, epochs, cfg.batch_size, cfg.learning_rate,
              model_seed(cfg.seed, generation, k), verbose=0)
  masking.strip_masks(net)
  with clock.time("evaluate"):
    val = train.top1(net, ds.validation)
  return {"offspring": k, "top1_val": val, "spec": squished.spec,
          "weights": model_lib.get_weights(net), "masks": squished.masks,
          "phase_seconds": clock.seconds}

"""One offspring, from plain data: draw its genome, squish it, fine-tune it, validate it.

`offspring_task` takes and returns only numpy arrays and plain Python values, so an
executor (`executors`) may run it in this process, another one, or on another machine;
the same inputs give the same result.
"""

from __future__ import annotations

import functools

import numpy as np

from squish_tf import config as config_lib
from squish_tf import data, train
from squish_tf.evolve import executors, genome, masking, surgery, widths
from squish_tf.evolve.clock import PhaseClock
from squish_tf.net import model as model_lib
from squish_tf.train import distribute


@functools.lru_cache(maxsize=2)
def splits(dataset: str, image_size: int, data_dir, seed: int) -> data.DataSplits:
  """The run's data, loaded once per process (offspring tasks share it)."""
  return data.load(dataset, image_size, data_dir, seed)


# Draws of an offspring that leave a class with no input from the image are drawn again.
MAX_DRAWS = 8


class NoInputForClass(RuntimeError):
  """Every draw left some class's conv10 filter reading nothing that varies with the image."""


def model_seed(seed: int, generation: int, offspring: int, stage: int = 0) -> int:
  """A distinct seed for each network a run builds (initializers, dropout, shuffling), and
  for each later training `stage` of it (recovery: 1)."""
  words = [seed, generation, offspring] + ([stage] if stage else [])
  state = np.random.SeedSequence(words).generate_state(1)[0]
  return int(state) & 0x7FFFFFFF


def draw(cfg, parent_spec: dict, parent_weights: dict, parent_masks: dict, generation: int,
         k: int, head_activation: str = "linear") -> surgery.Squished:
  """Offspring k's genome, squished; drawn again while a class would have no live input."""
  of = widths.multiples(cfg.channel_multiple, cfg.squeeze_multiple)
  # With no --mac_pressure every factor is r_clu ** 1.0, exactly r_clu: one path for both.
  layer_r_clu = genome.cluster_factors(parent_spec, cfg.r_clu, cfg.mac_pressure, cfg.image_size,
                                       cfg.mac_relief)
  for attempt in range(MAX_DRAWS):
    rng = genome.generation_rng(cfg.seed, generation, k, attempt)
    masks = genome.sample_offspring(parent_weights, parent_masks, cfg.r_syn, layer_r_clu,
                                    cfg.synthesis, rng)
    _, squished = widths.round_to_multiple(parent_spec, parent_weights, parent_masks, masks,
                                           of, head_activation)
    blind = surgery.classes_without_live_input(squished)
    if not blind:
      return squished
  raise NoInputForClass(
      f"{MAX_DRAWS} draws each left classes {blind} with no input from the image; milder "
      f"--r_syn/--r_clu keep more of the network")


def no_input_result(args: tuple, error: NoInputForClass) -> dict:
  """An offspring whose every draw cut a class off (`args` as offspring_task's): unfit, the
  factors' doing and the same at every resume, so a milder level is drawn; not a failed task
  that a resume could retry (`no_input` says which)."""
  return {**executors.failed_result(args, f"{type(error).__name__}: {error}"), "no_input": True}


def planned_epochs(cfg) -> int:
  """Epochs one offspring trains before it is judged: fine-tuned, or trained like a newborn."""
  return cfg.finetune_epochs if cfg.offspring_init == "inherit" else cfg.epochs


def offspring_task(cfg: config_lib.EvolveConfig, parent_spec: dict, parent_weights: dict,
                   parent_masks: dict, generation: int, k: int,
                   head_activation: str = "linear", floor: float | None = None) -> dict:
  """Draws, squishes and fine-tunes offspring k of a generation. With --recovery_epochs, an
  offspring whose validation top-1 is below `floor` trains that many epochs more, once.

  Returns {"offspring", "top1_val", "spec", "weights", "masks", "epochs", "phase_seconds"}.
  """
  clock = PhaseClock()
  ds = splits(cfg.dataset, cfg.image_size, cfg.data_dir, cfg.seed)
  with clock.time("sample"):  # draw and squish
    try:
      squished = draw(cfg, parent_spec, parent_weights, parent_masks, generation, k,
                      head_activation)
    except NoInputForClass as error:
      return no_input_result((cfg, parent_spec, parent_weights, parent_masks, generation, k),
                             error)
  strategy = distribute.make_strategy(cfg.strategy)
  net = _masked_network(cfg, ds, strategy, clock, squished.spec,
                        squished.weights if cfg.offspring_init == "inherit" else None,
                        squished.masks, model_seed(cfg.seed, generation, k), head_activation)
  teacher = None
  if cfg.distill > 0:  # the parent, as it was trained
    with clock.time("build"), strategy.scope():
      teacher = model_lib.squeezenet(parent_spec, ds.num_classes, image_size=cfg.image_size,
                                     head_activation=head_activation)
      model_lib.set_weights(teacher, parent_weights)
  epochs = planned_epochs(cfg)
  _train(cfg, net, ds, strategy, clock, epochs, teacher,
         model_seed(cfg.seed, generation, k))
  with clock.time("evaluate"):
    val = train.top1(net, ds.validation)
  if floor is not None and val < floor and cfg.recovery_epochs:
    # Trained on rather than thrown away: a milder retry would spend as many epochs on a
    # network that starts again from the parent.
    _train(cfg, net, ds, strategy, clock, cfg.recovery_epochs, teacher,
           model_seed(cfg.seed, generation, k, stage=1))
    epochs += cfg.recovery_epochs
    with clock.time("evaluate"):
      val = train.top1(net, ds.validation)
  return _result(net, val, k, squished.masks, epochs, clock)


def polish_task(cfg: config_lib.EvolveConfig, spec: dict, weights: dict, masks: dict,
                generation: int, k: int = 0, head_activation: str = "linear") -> dict:
  """The run's last network trained --polish_epochs more, its masks held (the long fine-tune
  that follows a pruning search); arguments laid out as `offspring_task`'s (k: its index),
  and returns what it returns. No distillation: its parent is itself."""
  clock = PhaseClock()
  ds = splits(cfg.dataset, cfg.image_size, cfg.data_dir, cfg.seed)
  strategy = distribute.make_strategy(cfg.strategy)
  seed = model_seed(cfg.seed, generation, k)
  net = _masked_network(cfg, ds, strategy, clock, spec, weights, masks, seed, head_activation)
  _train(cfg, net, ds, strategy, clock, cfg.polish_epochs, None, seed)
  with clock.time("evaluate"):
    val = train.top1(net, ds.validation)
  return _result(net, val, k, masks, cfg.polish_epochs, clock)


polish_task.log_name = "polishing"  # executors' warnings: it is no offspring of a population


def _result(net, top1_val: float, k: int, masks: dict, epochs: int, clock: PhaseClock) -> dict:
  """A task's plain-data result; the mask constraints go, the weights they zeroed stay zero."""
  masking.strip_masks(net)
  return {"offspring": k, "top1_val": top1_val, "spec": model_lib.spec_of(net),
          "weights": model_lib.get_weights(net), "masks": masks, "epochs": epochs,
          "phase_seconds": clock.seconds}


def _masked_network(cfg, ds, strategy, clock, spec: dict, weights: dict | None, masks: dict,
                    seed: int, head_activation: str):
  """SqueezeNet `spec` with `weights` (None: initialised from `seed`), its dead synapses held
  at zero; built in the strategy that will train it."""
  with clock.time("build"), strategy.scope():
    net = model_lib.squeezenet(spec, ds.num_classes, image_size=cfg.image_size, seed=seed,
                               head_activation=head_activation)
    if weights is not None:
      model_lib.set_weights(net, weights)
    masking.apply_masks(net, masks)
  return net


def _train(cfg, net, ds, strategy, clock, epochs: int, teacher, seed: int) -> None:
  """Fits a masked offspring (its masks hold every dead synapse at zero) with the run's
  schedule, distillation and augmentation."""
  with clock.time("train"), strategy.scope():
    train.fit(net, ds, epochs, cfg.batch_size, cfg.learning_rate, seed, verbose=0,
              validate_each_epoch=False, teacher=teacher, distill=cfg.distill,
              temperature=cfg.distill_temperature, warmup_epochs=cfg.warmup_epochs,
              augment_pixels=cfg.augment_pixels)

"""squish-evolve: evolutionary synthesis of SquishedNets, every generation measured as TFLite."""

from absl import flags

from squish_tf.cli import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  from squish_tf.config import (INT8_GRANULARITIES, OBJECTIVES, SELECTIONS, SYNTHESES,
                                EvolveConfig)
  d = EvolveConfig()
  common.define_data_flags()
  common.define_train_flags(epochs=d.epochs)
  flags.DEFINE_string("workdir", None, "Run directory (created; resumable).", required=True)
  flags.DEFINE_integer("generations", d.generations, "Generations after the ancestor.")
  flags.DEFINE_integer("population", d.population, "Offspring per generation.")
  flags.DEFINE_float("r_syn", d.r_syn, "Environmental factor for synapses, in (0, 1].")
  flags.DEFINE_float("r_clu", d.r_clu, "Environmental factor for clusters (filters), in (0, 1].")
  flags.DEFINE_enum("synthesis", d.synthesis, SYNTHESES,
                    "budget: each generation keeps about R of what it inherits; "
                    "paper: keep probability is R times the synaptic probability; "
                    "structured: whole filters die, drawn by their coupled groups' strength; "
                    "ranked: the draw sets how many filters die, the weakest groups die.")
  flags.DEFINE_integer("finetune_epochs", d.finetune_epochs, "Fine-tuning epochs per offspring.")
  flags.DEFINE_enum("offspring_init", d.offspring_init, ["inherit", "scratch"],
                    "inherit: fine-tune the parent's surviving weights; scratch: train anew "
                    "for --epochs.")
  flags.DEFINE_float("accuracy_floor", d.accuracy_floor,
                     "Minimum validation top-1 (0-1) for an offspring to become a parent.")
  flags.DEFINE_string("ancestor", None, "Start from this trained .keras model instead of "
                      "training one.")
  flags.DEFINE_integer("bench_image_size", d.bench_image_size,
                       "Input side for the per-generation interpreter benchmark.", lower_bound=32)
  flags.DEFINE_integer("threads", None, "Interpreter threads for benchmarks (default: all cores).",
                       lower_bound=1)
  flags.DEFINE_float("bench_seconds", d.bench_seconds, "Seconds a generation's interpreter "
                     "benchmark spends per batch size and per thread count (split into rounds); "
                     "longer gives steadier medians.")
  flags.DEFINE_bool("int8", False, "Also write a verified post-training int8 .tflite per "
                    "generation (tflite_int8_bytes, top1_tflite_int8).")
  flags.DEFINE_enum("int8_granularity", d.int8_granularity, INT8_GRANULARITIES,
                    "int8 weight scales per output channel, or one per tensor (smaller file: "
                    "no per-channel scales; verified like any int8 file).")
  flags.DEFINE_enum("executor", "process", ["process", "local", "ray"],
                    "Where offspring train: process (one after another in a child process, "
                    "replaced every few offspring: TensorFlow never frees the memory each "
                    "trained network leaves behind), local (one after another in this "
                    "process: grows with every offspring) or ray (one Ray task each, run in "
                    "parallel).")
  flags.DEFINE_string("ray_address", None, "Ray cluster to join with --executor=ray (e.g. auto "
                      "or ray://head:10001); default: a local Ray instance for this run.")
  flags.DEFINE_float("cpus_per_offspring", 1, "Ray CPUs reserved per offspring task.",
                     lower_bound=0.01)
  flags.DEFINE_float("gpus_per_offspring", 0, "Ray GPUs reserved per offspring task "
                     "(0.5 puts two on a GPU; 2 with --strategy=mirrored trains across two).",
                     lower_bound=0)
  flags.DEFINE_integer("max_retries", 2, "Ray retries of an offspring task that raised or whose "
                       "worker died, before it counts as a failed offspring.", lower_bound=0)
  flags.DEFINE_enum("strategy", d.strategy, ["default", "mirrored"],
                    "tf.distribute strategy training each network: mirrored replicates it over "
                    "the visible GPUs (the default strategy where there are none).")
  flags.DEFINE_integer("channel_multiple", d.channel_multiple, "Round every squished width to "
                       "a multiple of this (8 suits phone CPUs' vector units; 1: any width).",
                       lower_bound=1)
  flags.DEFINE_integer("squeeze_multiple", d.squeeze_multiple, "Round the fire modules' "
                       "squeeze widths to a multiple of this instead (0: --channel_multiple): "
                       "they are narrow, and at small inputs the 3x3 layers reading them hold "
                       "most MACs.", lower_bound=0)
  flags.DEFINE_float("mac_pressure", d.mac_pressure, "Prune harder where the MACs are: a "
                     "layer whose filters cost rho times the mean filter's MACs keeps "
                     "r_clu**min(4, max(1, rho**mac_pressure)) of them; in [0, 1] (0: "
                     "off).")
  flags.DEFINE_bool("mac_relief", d.mac_relief, "With --mac_pressure, layers whose filters "
                    "cost fewer MACs than the mean filter keep more than r_clu "
                    "(r_clu**rho**mac_pressure): for runs aiming at latency, where the late, "
                    "1x1 layers cost parameters but little time.")
  flags.DEFINE_enum("selection", d.selection, SELECTIONS, "accuracy: the best validation "
                    "top-1; tradeoff: the smallest (--objective) within --selection_tolerance "
                    "of the best.")
  flags.DEFINE_float("selection_tolerance", d.selection_tolerance, "tradeoff: validation top-1 "
                     "(fraction) an offspring may give up against the best one.")
  flags.DEFINE_enum("objective", d.objective, OBJECTIVES, "tradeoff: what smaller means; "
                    "latency is measured (batch 1, 1 thread, --image_size); int8_size is the "
                    "post-training int8 .tflite's bytes.")
  flags.DEFINE_float("max_accuracy_drop", d.max_accuracy_drop, "Offspring must stay within "
                     "this much validation top-1 (fraction) of the ancestor; generations retry "
                     "with milder factors, then the run stops (1: no relative floor).",
                     lower_bound=0, upper_bound=1)
  flags.DEFINE_integer("milder_retries", d.milder_retries, "Retries of a generation with "
                       "factors halfway to 1, when no offspring is within --max_accuracy_drop.",
                       lower_bound=0)
  flags.DEFINE_bool("adaptive_factors", d.adaptive_factors, "Start each generation's draw "
                    "at the milder level the last generation needed (one level harsher "
                    "after a first-draw success) instead of at --r_syn/--r_clu; retries go "
                    "on to --milder_retries halvings.")
  flags.DEFINE_float("target_size_kb", None, "End at the first generation whose float32 "
                     ".tflite is at most this many KB.")
  flags.DEFINE_float("target_latency_ms", None, "End at the first generation at most this "
                     "slow (batch 1, 1 thread, at --image_size).")
  flags.DEFINE_float("target_macs", None, "End at the first generation with at most this many "
                     "MACs at --image_size.")
  flags.DEFINE_float("target_int8_kb", None, "End at the first generation whose int8 .tflite "
                     "is at most this many KB (needs --int8).")
  flags.DEFINE_float("distill", d.distill, "Weight of distillation from the parent while an "
                     "offspring fine-tunes (0: off).", lower_bound=0, upper_bound=1)
  flags.DEFINE_float("distill_temperature", d.distill_temperature, "Distillation temperature.")
  flags.DEFINE_float("warmup_epochs", d.warmup_epochs, "Linear learning-rate warmup (epochs) "
                     "before the cosine decay.", lower_bound=0)
  flags.DEFINE_integer("augment_pixels", d.augment_pixels, "Shift training images randomly by "
                       "up to this many pixels (0: off).", lower_bound=0)
  flags.DEFINE_integer("recovery_epochs", d.recovery_epochs, "An offspring below the "
                       "accuracy floor after fine-tuning trains this many epochs more, once, "
                       "before it is judged (0: off).", lower_bound=0)
  flags.DEFINE_integer("polish_epochs", d.polish_epochs, "When the run ends, its last "
                       "generation trains this many epochs more and is written as one more "
                       "generation (0: off).", lower_bound=0)
  flags.DEFINE_integer("stall_generations", d.stall_generations, "End the run when this many "
                       "generations in a row bred no smaller network (the same filter counts: "
                       "at the channel multiple's floor each is only more fine-tuning; 0: off).",
                       lower_bound=0)
  flags.DEFINE_bool("resume", False, "Continue the run in --workdir from its last finished "
                    "generation.")


def main(argv):
  del argv
  from squish_tf import config
  from squish_tf.errors import UserError
  if FLAGS.ray_address and FLAGS.executor != "ray":
    raise UserError("--ray_address is for --executor=ray; add --executor=ray or drop the address")
  if FLAGS.resume:
    common.take_saved_flags(FLAGS.workdir)
  cfg = config.EvolveConfig(
      dataset=FLAGS.dataset, data_dir=FLAGS.data_dir, image_size=FLAGS.image_size,
      epochs=FLAGS.epochs, batch_size=FLAGS.batch_size, learning_rate=FLAGS.learning_rate,
      seed=FLAGS.seed, bench_image_size=FLAGS.bench_image_size, threads=FLAGS.threads,
      generations=FLAGS.generations, population=FLAGS.population, r_syn=FLAGS.r_syn,
      r_clu=FLAGS.r_clu, synthesis=FLAGS.synthesis, finetune_epochs=FLAGS.finetune_epochs,
      offspring_init=FLAGS.offspring_init, accuracy_floor=FLAGS.accuracy_floor,
      ancestor=FLAGS.ancestor, int8=FLAGS.int8,
      int8_granularity=FLAGS.int8_granularity, strategy=FLAGS.strategy,
      channel_multiple=FLAGS.channel_multiple, squeeze_multiple=FLAGS.squeeze_multiple,
      mac_pressure=FLAGS.mac_pressure, mac_relief=FLAGS.mac_relief, selection=FLAGS.selection,
      selection_tolerance=FLAGS.selection_tolerance, objective=FLAGS.objective,
      max_accuracy_drop=FLAGS.max_accuracy_drop, milder_retries=FLAGS.milder_retries,
      adaptive_factors=FLAGS.adaptive_factors,
      recovery_epochs=FLAGS.recovery_epochs, polish_epochs=FLAGS.polish_epochs,
      target_size_kb=FLAGS.target_size_kb, target_latency_ms=FLAGS.target_latency_ms,
      target_macs=FLAGS.target_macs, target_int8_kb=FLAGS.target_int8_kb,
      stall_generations=FLAGS.stall_generations,
      distill=FLAGS.distill,
      distill_temperature=FLAGS.distill_temperature, warmup_epochs=FLAGS.warmup_epochs,
      augment_pixels=FLAGS.augment_pixels, bench_seconds=FLAGS.bench_seconds)
  # A flag given that would change nothing is a mistake to tell, not a run to start. Only a
  # flag given here: a saved config.json (--resume) may hold one from before this check; and
  # only off its default, which a script may spell out.
  if (FLAGS["int8_granularity"].present and cfg.int8_granularity != "per_channel"
      and not cfg.int8 and cfg.objective != "int8_size"):
    raise UserError(f"--int8_granularity={cfg.int8_granularity} sets the int8 files' weight "
                    f"scales: add --int8 (or --objective=int8_size), or drop it")
  if FLAGS["objective"].present and cfg.objective != "params" and cfg.selection != "tradeoff":
    raise UserError(f"--objective={cfg.objective} is what --selection=tradeoff weighs against "
                    f"accuracy: add --selection=tradeoff, or drop --objective")
  from squish_tf.evolve import executors, opening
  executors.check_available(FLAGS.executor)
  opening.start(cfg, FLAGS.workdir, FLAGS.resume)  # its mistakes told before TensorFlow starts
  common.start_tensorflow()
  from squish_tf.evolve import loop
  with executors.make_executor(FLAGS.executor, ray_address=FLAGS.ray_address,
                               cpus_per_task=FLAGS.cpus_per_offspring,
                               gpus_per_task=FLAGS.gpus_per_offspring,
                               max_retries=FLAGS.max_retries) as executor:
    records = loop.run(cfg, FLAGS.workdir, resume=FLAGS.resume, executor=executor)
  last = records[-1]
  print(f"{len(records) - 1} generations in {FLAGS.workdir}: last has "
        f"{last['params_total']:,} parameters, {last['tflite_bytes'] / 1e6:.3f} MB .tflite, "
        f"test top-1 {last['top1_tflite']:.4f}. Next: squish-report --workdir={FLAGS.workdir}")


def run_main():
  define_flags()
  common.run(main, resume="; the same command with --resume goes on from the last finished "
                          "generation")


if __name__ == "__main__":
  run_main()

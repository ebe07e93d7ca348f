"""squish-evolve: evolutionary synthesis of SquishedNets, every generation measured as TFLite."""

from absl import flags

from squish_tf.cli import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  from squish_tf.config import INT8_GRANULARITIES, EvolveConfig
  d = EvolveConfig()
  common.define_data_flags()
  common.define_train_flags(epochs=d.epochs)
  flags.DEFINE_string("workdir", None, "Run directory (created; resumable).", required=True)
  flags.DEFINE_integer("generations", d.generations, "Generations after the ancestor.")
  flags.DEFINE_integer("population", d.population, "Offspring per generation.")
  flags.DEFINE_float("r_syn", d.r_syn, "Environmental factor for synapses, in (0, 1].")
  flags.DEFINE_float("r_clu", d.r_clu, "Environmental factor for clusters (filters), in (0, 1].")
  flags.DEFINE_enum("synthesis", d.synthesis, ["budget", "paper"],
                    "budget: each generation keeps about R of what it inherits; "
                    "paper: keep probability is R times the synaptic probability.")
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
  flags.DEFINE_bool("int8", False, "Also write a verified post-training int8 .tflite per "
                    "generation (tflite_int8_bytes, top1_tflite_int8).")
  flags.DEFINE_enum("int8_granularity", d.int8_granularity, INT8_GRANULARITIES,
                    "int8 weight scales per output channel, or one per tensor (smaller file: "
                    "no per-channel scales; verified like any int8 file).")
  flags.DEFINE_enum("executor", "local", ["local", "ray"],
                    "Where offspring train: local (one after another in this process) or ray "
                    "(one Ray task each, run in parallel).")
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
  flags.DEFINE_bool("resume", False, "Continue the run in --workdir from its last finished "
                    "generation.")


def main(argv):
  del argv
  from squish_tf import config
  from squish_tf.errors import UserError
  if FLAGS.ray_address and FLAGS.executor != "ray":
    raise UserError("--ray_address is for --executor=ray; add --executor=ray or drop the address")
  cfg = config.EvolveConfig(
      dataset=FLAGS.dataset, data_dir=FLAGS.data_dir, image_size=FLAGS.image_size,
      epochs=FLAGS.epochs, batch_size=FLAGS.batch_size, learning_rate=FLAGS.learning_rate,
      seed=FLAGS.seed, bench_image_size=FLAGS.bench_image_size, threads=FLAGS.threads,
      generations=FLAGS.generations, population=FLAGS.population, r_syn=FLAGS.r_syn,
      r_clu=FLAGS.r_clu, synthesis=FLAGS.synthesis, finetune_epochs=FLAGS.finetune_epochs,
      offspring_init=FLAGS.offspring_init, accuracy_floor=FLAGS.accuracy_floor,
      ancestor=FLAGS.ancestor, int8=FLAGS.int8,
      int8_granularity=FLAGS.int8_granularity, strategy=FLAGS.strategy)
  from squish_tf.evolve import executors, loop
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
  common.run(main)

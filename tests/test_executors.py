"""Executors and strategies: local, process and Ray runs agree; a killed task is retried (Ray)
or replaced (process); a process worker is recycled; mirrored trains.

The Ray tests share one local Ray instance (2 CPUs, small object store); the
executor finds it running and leaves it up, so Ray starts once per module.
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from squish_tf import config
from squish_tf.errors import UserError
from squish_tf.evolve import executors, offspring
from squish_tf.evolve import loop as evolve
from squish_tf.net import arch
from squish_tf.rundir import RunDir
from squish_tf.train import distribute

TINY = dict(image_size=32, epochs=1, finetune_epochs=1, generations=1, population=2,
            bench_image_size=32, accuracy_floor=0.0, max_accuracy_drop=1.0, r_syn=0.8,
            r_clu=0.8, seed=5, bench_seconds=0.05)  # timings recorded, not judged
# metrics.jsonl fields that are timings or interpreter speeds, and so vary run to run
# (with every latency_ms_* percentile).
TIMING_KEYS = {"phase_seconds", "wall_seconds", "train_seconds", "images_per_sec_b1",
               "images_per_sec_b32", "bench_threads"}


def masks_of(workdir, generation):
  with np.load(os.path.join(RunDir(workdir).gen_dir(generation), "masks.npz")) as f:
    return {k: f[k] for k in arch.CONV_LAYERS}


def metrics_of(workdir, generation):
  record = json.load(open(os.path.join(RunDir(workdir).gen_dir(generation), "metrics.json")))
  return {k: v for k, v in record.items()
          if k not in TIMING_KEYS and not k.startswith("latency_ms")}


@pytest.fixture(scope="module")
def ray_instance():
  ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'squish_tf[ray]'")
  ray.init(num_cpus=2, object_store_memory=80 * 1024**2, include_dashboard=False,
           log_to_driver=False)
  yield ray
  ray.shutdown()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("local") / "run")
  with executors.make_executor("local") as executor:
    evolve.run(config.EvolveConfig(**TINY), workdir, executor=executor)
  return workdir


def _assert_same_as_local(name, local_run, workdir, **options):
  # Generation 0 is the local run's ancestor; generation 1 is where the executors differ.
  cfg = config.EvolveConfig(**TINY, ancestor=_ancestor(local_run))
  with executors.make_executor(name, **options) as executor:
    evolve.run(cfg, workdir, executor=executor)
  ours, theirs = masks_of(workdir, 1), masks_of(local_run, 1)
  for layer in arch.CONV_LAYERS:
    np.testing.assert_array_equal(ours[layer], theirs[layer], err_msg=layer)
  assert metrics_of(workdir, 1) == metrics_of(local_run, 1)
  assert metrics_of(workdir, 1)["population"] == 2


def test_local_and_ray_select_the_same_masks_and_metrics(ray_instance, local_run, tmp_path):
  _assert_same_as_local("ray", local_run, str(tmp_path / "ray"), max_retries=0)
  assert ray_instance.is_initialized()  # an instance it did not start is left running


def test_local_and_process_select_the_same_masks_and_metrics(local_run, tmp_path):
  _assert_same_as_local("process", local_run, str(tmp_path / "process"))


def _pid_task(cfg, spec, weights, masks, generation, k):
  """A stand-in offspring task (module level: a spawned worker imports it): offspring 1
  raises, offspring 2's worker always dies, offspring 4's only the first time (a worker that
  dies first appends "k pid" to spec["deaths"]), offspring 3 writes its worker's pid to
  spec["pid_file"] and sleeps; each returns its worker's pid otherwise."""
  if k == 1:
    raise ValueError("no\nsuch thing")
  if k == 3:
    with open(spec["pid_file"], "w") as f:
      f.write(str(os.getpid()))
    time.sleep(300)
  if k == 2 or k == 4 and _deaths(spec["deaths"]).count(4) == 0:
    with open(spec["deaths"], "a") as f:
      f.write(f"{k} {os.getpid()}\n")
    os._exit(1)
  return {"offspring": k, "pid": os.getpid()}


def _deaths(path):
  return [int(line.split()[0]) for line in open(path)] if os.path.exists(path) else []


def test_ray_missing_is_a_user_error_before_anything_starts(monkeypatch):
  real = importlib.util.find_spec
  monkeypatch.setattr(importlib.util, "find_spec",
                      lambda name, *a: None if name == "ray" else real(name, *a))
  with pytest.raises(UserError, match=r"needs Ray: pip install 'squish_tf\[ray\]'"):
    executors.check_available("ray")
  for name in ("local", "process"):
    executors.check_available(name)


def test_process_executor_recycles_its_worker_and_survives_failures(tmp_path, caplog):
  deaths = tmp_path / "deaths"
  cfg, spec = config.EvolveConfig(**TINY), {"conv1": 64, "deaths": str(deaths)}
  # Five workers, each paying TensorFlow's start (_seeded_call): the first for 2 tasks, then
  # one after each of the three deaths.
  with executors.make_executor("process", tasks_per_worker=2) as executor:
    results = executor(_pid_task, [(cfg, spec, {}, {}, 1, k) for k in (0, 0, 2, 4, 1)])
  first, second, died, retried, raised = results
  died_in = [int(line.split()[1]) for line in deaths.read_text().splitlines()]
  assert _deaths(deaths) == [2, 2, 4]
  assert first["pid"] == second["pid"] != os.getpid()  # a child, kept for 2 tasks
  assert died_in[0] != first["pid"]  # then replaced
  assert died["failed"].startswith("worker process died twice") and died["spec"] == spec
  # a worker that died once: its task ran again in a fresh worker
  assert retried["offspring"] == 4 and retried["pid"] not in [first["pid"], *died_in]
  assert len(set(died_in)) == 3  # each death was a worker of its own
  assert raised["failed"] == "ValueError: such thing"
  assert raised["top1_val"] == died["top1_val"] == executors.FAILED_TOP1
  # warnings name the offspring as the run's progress lines do (population 2)
  assert ("offspring 1/2 (milder level 1): its worker process died (attempt 2 of 2)"
          in caplog.text), caplog.text
  assert "offspring 2/2 failed:" in caplog.text, caplog.text


def test_a_failed_polish_is_logged_as_the_polish_not_as_an_offspring(caplog):
  # a spec without the network's layers: the polish cannot build its network
  with executors.make_executor("local") as executor:
    [result] = executor(offspring.polish_task, [(config.EvolveConfig(**TINY), {}, {}, {}, 2, 0)])
  assert result["top1_val"] == executors.FAILED_TOP1
  assert "polishing failed:" in caplog.text and "offspring 1/" not in caplog.text, caplog.text


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="a worker dies with its driver through prctl, on Linux only")
def test_a_killed_driver_takes_its_process_worker_with_it(tmp_path):
  pid_file = tmp_path / "worker.pid"
  script = textwrap.dedent(f"""
      import sys
      sys.path.insert(0, {os.path.dirname(__file__)!r})
      from test_executors import TINY, _pid_task
      from squish_tf import config
      from squish_tf.evolve import executors
      with executors.make_executor("process") as executor:
        executor(_pid_task, [(config.EvolveConfig(**TINY), {{"pid_file": {str(pid_file)!r}}},
                              {{}}, {{}}, 1, 3)])
      """)
  driver = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.DEVNULL,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  deadline = time.time() + 120
  while not pid_file.exists() or not pid_file.read_text():
    assert driver.poll() is None and time.time() < deadline, "the worker never started"
    time.sleep(0.2)
  worker = int(pid_file.read_text())
  driver.send_signal(signal.SIGKILL)  # mid-task, as a crash or `kill -9` would
  driver.wait()
  deadline = time.time() + 30
  while os.path.exists(f"/proc/{worker}") and "Z" not in _state(worker):
    assert time.time() < deadline, "the worker outlived its driver"
    time.sleep(0.2)


def _state(pid):
  try:
    with open(f"/proc/{pid}/stat") as f:
      return f.read().rsplit(")", 1)[1].split()[0]
  except OSError:
    return "gone"


def _ancestor(workdir):
  return os.path.join(RunDir(workdir).gen_dir(0), "model.keras")


def _flaky(marker_dir):
  """offspring_task, except that offspring 0's worker dies on its first attempt and
  offspring 1 always raises. Every attempt leaves a marker file."""
  def task(*args):
    k = args[5]  # the offspring index (offspring_task's sixth argument)
    attempt = len([p for p in os.listdir(marker_dir) if p.startswith(f"{k}_")])
    open(os.path.join(marker_dir, f"{k}_{attempt}"), "w").close()
    if k == 0 and attempt == 0:
      os._exit(1)  # the worker process dies mid-task
    if k == 1:
      raise RuntimeError("offspring 1 always fails")
    return offspring.offspring_task(*args)
  return task


def test_killed_task_is_retried_and_a_failing_one_is_counted_failed(ray_instance, local_run,
                                                                    tmp_path):
  markers = tmp_path / "markers"
  markers.mkdir()
  flaky = _flaky(str(markers))
  cfg = config.EvolveConfig(**TINY, ancestor=_ancestor(local_run))
  workdir = str(tmp_path / "run")
  with executors.make_executor("ray", max_retries=1) as executor:
    results = executor(flaky, [(cfg, {}, {}, {}, 1, 1)])  # only the failure, on its own
    assert results[0]["top1_val"] == executors.FAILED_TOP1
    assert "offspring 1 always fails" in results[0]["failed"]
    for p in markers.iterdir():
      p.unlink()
    evolve.run(cfg, workdir, executor=lambda fn, arg_lists: executor(flaky, arg_lists))
  assert sorted(p.name for p in markers.iterdir()) == ["0_0", "0_1", "1_0", "1_1"]
  assert RunDir(workdir).finished_generations() == [0, 1]
  record = json.load(open(os.path.join(RunDir(workdir).gen_dir(1), "metrics.json")))
  assert record["offspring"] == 0  # the retried one; the failed one is never selected
  assert record["top1_val"] > executors.FAILED_TOP1
  for name in arch.CONV_LAYERS:  # an offspring of the shared ancestor
    assert masks_of(workdir, 1)[name].sum() <= masks_of(local_run, 0)[name].sum()


def test_local_executor_counts_an_exception_as_a_failed_offspring():
  def boom(*args):
    raise ValueError("no\nsuch thing")
  with executors.make_executor("local") as executor:
    [res] = executor(boom, [(config.EvolveConfig(**TINY), {"conv1": 64}, {}, {}, 1, 3)])
  assert res["offspring"] == 3 and res["top1_val"] == executors.FAILED_TOP1
  assert res["failed"] == "ValueError: such thing" and res["spec"] == {"conv1": 64}


def test_unknown_names_are_rejected():
  with pytest.raises(ValueError, match="executor must be one of local, process, ray"):
    executors.make_executor("dask")
  with pytest.raises(ValueError, match="cpus_per_task"):
    executors.make_executor("ray", cpus_per_task=0)
  with pytest.raises(ValueError, match="tasks_per_worker"):
    executors.make_executor("process", tasks_per_worker=0)
  with pytest.raises(ValueError, match="strategy must be one of default, mirrored"):
    distribute.make_strategy("tpu")


def test_mirrored_without_gpus_falls_back_to_the_default_strategy(caplog, monkeypatch):
  import tensorflow as tf
  if tf.config.list_logical_devices("GPU"):
    pytest.skip("this machine has a GPU, so mirrored does not fall back")
  monkeypatch.setattr(distribute, "_fallback_logged", False)  # it is said once per process
  assert distribute.make_strategy("mirrored") is tf.distribute.get_strategy()
  assert "no visible GPU, falling back to the default strategy" in caplog.text
  assert distribute.make_strategy("default") is tf.distribute.get_strategy()


def test_mirrored_strategy_trains_a_masked_network_over_two_replicas():
  # Two logical CPUs stand in for two GPUs; it must be set before TensorFlow starts,
  # hence a fresh process.
  script = textwrap.dedent("""
    import numpy as np, tensorflow as tf
    tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                               [tf.config.LogicalDeviceConfiguration()] * 2)
    from squish_tf import train
    from squish_tf.evolve import genome, masking
    from squish_tf.net import model
    from squish_tf.train import distribute
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (128, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 10, 128)
    strategy = distribute.make_strategy("mirrored", ["/cpu:0", "/cpu:1"])
    with strategy.scope():
      net = model.squeezenet(num_classes=10, image_size=32, seed=1)
      masks = genome.full_masks(model.get_weights(net))
      masks["conv1"][..., :8] = False
      masking.apply_masks(net, masks)
      train.compile_model(net, 5e-4, 4)
      history = net.fit(images, labels, batch_size=32, epochs=1, verbose=0)
    kernel = model.get_weights(net)["conv1"][0]
    print(strategy.num_replicas_in_sync, float(np.abs(kernel[..., :8]).max()),
          float(np.abs(kernel[..., 8:]).max()), history.history["loss"][-1])
  """)
  out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  assert out.returncode == 0, out.stderr[-3000:]
  replicas, dead, alive, loss = out.stdout.split()[-4:]
  assert int(replicas) == 2
  assert float(dead) == 0.0 and float(alive) > 0.0  # masks hold across replicas
  assert np.isfinite(float(loss))


def test_a_worker_leaves_ctrl_c_to_its_parent():
  """Ctrl-C reaches the whole process group. The parent answers it in one line and ends its
  worker; a worker that took it too would die printing a KeyboardInterrupt traceback."""
  # A process started in the background inherits Ctrl-C ignored, and so would the worker:
  # let it start as it would from a terminal.
  ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
  pool = executors._child_pool()
  try:
    pid = pool.submit(os.getpid).result()
    signal.signal(signal.SIGINT, ignored)
    os.kill(pid, signal.SIGINT)
    time.sleep(0.5)
    assert pool.submit(os.getpid).result() == pid  # the same worker, alive
  finally:
    signal.signal(signal.SIGINT, ignored)
    executors._close(pool, interrupted=True)

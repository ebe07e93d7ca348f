"""squish-train end to end: what it writes, that it never overwrites a run unasked, and that
a killed run resumes."""

import json
import os
import signal
import subprocess
import sys
import time

import h5py
import pytest

from squish_tf import files, rundir
from squish_tf.errors import UserError

TOY = ["--epochs=1", "--image_size=32"]


def _events(workdir):
  return sorted(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(workdir, "tensorboard"))
                for f in fs if f.startswith("events."))


def test_train_writes_a_verified_model_and_refuses_to_overwrite_it(cli, tmp_path):
  workdir = tmp_path / "train"
  proc = cli("train", f"--workdir={workdir}", *TOY)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "validation top-1" in proc.stdout and "model.tflite" in proc.stdout
  summary = json.load(open(workdir / "summary.json"))
  epochs = [json.loads(line) for line in open(workdir / "metrics.jsonl")]
  assert [e["epoch"] for e in epochs] == [1] and "val_accuracy" in epochs[0]
  assert abs(summary["top1_tflite"] - summary["top1_keras"]) <= 1 / 270 + 1e-9
  assert summary["tflite_bytes"] == (workdir / "model.tflite").stat().st_size
  assert json.load(open(workdir / "model.tflite.json"))["images"] == 64  # validation images
  provenance = json.load(open(workdir / "model.keras.json"))["provenance"]
  assert (provenance["dataset"], provenance["split_seed"], provenance["image_size"],
          provenance["num_classes"]) == ("digits", 0, 32, 10)
  assert (workdir / "labels.txt").read_text().split() == [str(d) for d in range(10)]
  first_events = _events(workdir)
  assert first_events

  again = cli("train", f"--workdir={workdir}", *TOY)
  assert again.returncode == 2 and "Traceback" not in again.stderr
  errors = [line for line in again.stderr.splitlines() if line.strip()]
  assert len(errors) == 1 and "already holds a finished training run" in errors[0], errors
  assert "--overwrite" in errors[0]
  assert json.load(open(workdir / "summary.json")) == summary  # untouched

  over = cli("train", f"--workdir={workdir}", *TOY, "--seed=1", "--overwrite")
  assert over.returncode == 0, over.stderr[-3000:]
  assert json.load(open(workdir / "model.keras.json"))["provenance"]["split_seed"] == 1
  assert len(_events(workdir)) == len(first_events)  # the old run's logs are gone, not mixed
  assert not set(_events(workdir)) & set(first_events)


def test_the_check_before_tensorflow_deletes_nothing_and_the_claim_clears_only_outputs(tmp_path):
  """squish-train checks its --workdir before TensorFlow starts, which may fail: only the job,
  once TensorFlow is up, clears the run that --overwrite replaces."""
  (tmp_path / "summary.json").write_text("{}")
  (tmp_path / "model.keras").write_text("old")
  (tmp_path / "tensorboard").mkdir()
  (tmp_path / "notes.txt").write_text("mine")
  with pytest.raises(UserError, match="already holds a finished training run"):
    rundir.check_training_dir(str(tmp_path), overwrite=False)
  rundir.check_training_dir(str(tmp_path), overwrite=True)
  assert sorted(p.name for p in tmp_path.iterdir()) == [
      ".lock", "model.keras", "notes.txt", "summary.json", "tensorboard"]  # .lock: held now
  rundir.claim_training_dir(str(tmp_path), overwrite=True)
  assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "notes.txt"]
  (tmp_path / "tensorboard").mkdir()  # not squish-train's: it would have written config.json
  with pytest.raises(UserError, match="holds tensorboard but no squish-train config.json"):
    rundir.check_training_dir(str(tmp_path), overwrite=True)
  (tmp_path / "config.json").write_text('{"epochs": 3}')  # an unfinished squish-train run
  (tmp_path / "checkpoints").mkdir()
  (tmp_path / "checkpoints" / "epoch_0001.weights.h5").write_text("")
  with pytest.raises(UserError, match=r"unfinished training run \(1 of 3 epochs done\); pass "
                                      r"--resume to continue it, or --overwrite"):
    rundir.claim_training_dir(str(tmp_path), overwrite=False)
  assert sorted(p.name for p in tmp_path.iterdir()) == [
      ".lock", "checkpoints", "config.json", "notes.txt", "tensorboard"]
  rundir.claim_training_dir(str(tmp_path), overwrite=True)
  assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "config.json", "notes.txt"]
  (tmp_path / "gen_000").mkdir()
  with pytest.raises(UserError, match="holds a squish-evolve run"):
    rundir.check_training_dir(str(tmp_path), overwrite=True)
  files.release(str(tmp_path))


def test_resume_refuses_what_it_cannot_continue_and_deletes_nothing(tmp_path):
  config = {"epochs": 3, "seed": 0}
  with pytest.raises(UserError, match="does not exist, so there is no run to resume"):
    rundir.check_training_dir(str(tmp_path / "new"), False, resume=True, config=config)
  (tmp_path / "f").write_text("")
  with pytest.raises(UserError, match="--workdir=.*f is a file"):
    rundir.check_training_dir(str(tmp_path / "f"), False, resume=True, config=config)
  with pytest.raises(UserError, match="pass one of them"):
    rundir.check_training_dir(str(tmp_path), True, resume=True, config=config)
  with pytest.raises(UserError, match=r"no training run to resume \(no config.json\)"):
    rundir.check_training_dir(str(tmp_path), False, resume=True, config=config)
  (tmp_path / "config.json").write_text(json.dumps({"epochs": 3}))  # by an older squish_tf
  (tmp_path / "checkpoints").mkdir()
  checkpoint = tmp_path / "checkpoints" / "epoch_0002.weights.h5"
  checkpoint.write_text("cut")
  with pytest.raises(UserError, match=r"seed=0 \(now 1\)"):
    rundir.check_training_dir(str(tmp_path), False, resume=True, config={**config, "seed": 1},
                              defaults={"seed": 0})
  with pytest.raises(UserError, match=r"epoch_0002.weights.h5 is damaged \(.*\); delete it to "
                                      r"resume from the first epoch"):
    rundir.check_training_dir(str(tmp_path), False, resume=True, config=config,
                              defaults={"seed": 0})
  with h5py.File(checkpoint, "w"):
    pass
  (tmp_path / "metrics.jsonl").write_text('{"epoch": 1}\n{"epoch": 2')
  with pytest.raises(UserError, match=r"metrics.jsonl is damaged \(line 2 is not a JSON "):
    rundir.check_training_dir(str(tmp_path), False, resume=True, config=config,
                              defaults={"seed": 0})
  (tmp_path / "metrics.jsonl").write_text('{"epoch": 1}\n[2]\n')
  with pytest.raises(UserError, match=r"metrics.jsonl is damaged \(line 2 is not a JSON "
                                      r"record of an epoch\); remove it"):
    rundir.check_training_dir(str(tmp_path), False, resume=True, config=config,
                              defaults={"seed": 0})
  (tmp_path / "metrics.jsonl").write_text('{"epoch": 1}\n')
  rundir.claim_training_dir(str(tmp_path), False, resume=True, config=config,
                            defaults={"seed": 0})
  assert rundir.epochs_done(str(tmp_path)) == 2  # resuming clears nothing
  (tmp_path / "summary.json").write_text("{}")
  with pytest.raises(UserError, match="already holds a finished training run"):
    rundir.check_training_dir(str(tmp_path), False, resume=True, config=config)
  files.release(str(tmp_path))


def test_a_run_stopped_before_its_first_checkpoint_starts_afresh(tmp_path):
  """Nothing to lose, as with squish-evolve: a plain rerun starts again, and so does --resume."""
  (tmp_path / "config.json").write_text(json.dumps({"epochs": 3}))
  (tmp_path / "metrics.jsonl").write_text("")
  rundir.claim_training_dir(str(tmp_path), False, config={"epochs": 3})
  assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "config.json"]
  rundir.claim_training_dir(str(tmp_path), False, resume=True, config={"epochs": 3})
  files.release(str(tmp_path))


def test_a_killed_training_run_is_refused_then_resumed_from_its_last_epoch(cli, tmp_path):
  """SIGKILL once epoch 1's checkpoint is on disk: a plain rerun is refused (it would have
  started again), --resume (with no other flag: the run's own are taken) trains only what was
  left and finishes the run."""
  workdir = tmp_path / "train"
  args = ["--epochs=2", "--image_size=32", f"--workdir={workdir}"]
  proc = subprocess.Popen([sys.executable, "-m", "squish_tf.cli.train", *args],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  checkpoint = workdir / "checkpoints" / "epoch_0001.weights.h5"
  while not checkpoint.exists() and proc.poll() is None:
    time.sleep(0.02)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert not (workdir / "summary.json").exists(), "the run finished before it could be killed"

  with open(workdir / "metrics.jsonl", "a") as log:  # as if killed between log and checkpoint
    log.write(json.dumps({"epoch": 2, "accuracy": 0.0}) + "\n")
  again = cli("train", *args)
  assert again.returncode == 2 and "Traceback" not in again.stderr, again.stderr[-2000:]
  assert "unfinished training run (1 of 2 epochs done)" in again.stderr

  resumed = cli("train", f"--workdir={workdir}", "--resume")  # the saved flags are taken
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  summary = json.load(open(workdir / "summary.json"))
  assert summary["resumed_from_epoch"] == 1
  assert [json.loads(line)["epoch"] for line in open(workdir / "metrics.jsonl")] == [1, 2]
  assert not (workdir / "checkpoints").exists()


def test_a_directory_in_use_by_another_run_is_refused(cli, tmp_path, held_elsewhere):
  holder = held_elsewhere(tmp_path, "squish-train")
  proc = cli("train", f"--workdir={tmp_path}", *TOY, "--resume")
  assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
  assert proc.stderr == (f"error: {tmp_path} is in use by squish-train (pid {holder.pid}); wait "
                         f"for it to end, or choose another --workdir\n")

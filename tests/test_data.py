"""Every data source on small data the tests make (no network), and every data error message."""

import io
import os
import tarfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from squish_tf import data
from squish_tf.data import imagenet10
from squish_tf.errors import UserError


def _one_line_error(excinfo, *words):
  """The UserError message is a single line that names each of `words`."""
  message = str(excinfo.value)
  assert "\n" not in message, message
  for word in words:
    assert word in message, f"{word!r} not in {message!r}"


def _jpeg(value, shape=(12, 16)):
  """A solid-colour JPEG whose pixels are `value` (an RGB triple), so a test can recognise it."""
  return tf.io.encode_jpeg(np.full((*shape, 3), value, np.uint8), quality=100).numpy()


# ---------------------------------------------------------------- digits


def test_digits_split_is_seeded_sized_and_scaled():
  ds = data.load("digits", image_size=32, seed=0)
  assert ds.class_names == [str(d) for d in range(10)] and ds.num_classes == 10
  # 1,797 images cut 70/15/15: round(269.55) = 270 each for validation and test.
  assert ds.sizes == {"train": 1257, "validation": 270, "test": 270}
  arrays = {s: data.as_numpy(ds.split(s)) for s in data.SPLITS}
  for split, (x, y) in arrays.items():
    assert x.shape == (ds.sizes[split], 32, 32, 3) and x.dtype == np.float32
    assert y.shape == (ds.sizes[split],)
    assert x.min() >= 0.0 and x.max() <= 1.0 and x.max() > 0.9
  assert set(arrays["train"][1]) == set(range(10))
  again = data.as_numpy(data.load("digits", image_size=32, seed=0).test)
  np.testing.assert_array_equal(again[0], arrays["test"][0])
  other = data.as_numpy(data.load("digits", image_size=32, seed=1).test)
  assert not np.array_equal(other[1], arrays["test"][1])


# ---------------------------------------------------------------- TFDS builders by name


class SquishTestPatches(tfds.core.GeneratorBasedBuilder):
  """Two classes of solid patches; example i has every pixel equal to i, so splits can be traced.

  Its configs have different splits of their own: 'train_test' (the default) has 'train' (20) and
  'test' (6), 'all_three' adds 'validation' (4), 'train_only' has just 'train'.
  """

  VERSION = tfds.core.Version("1.0.0")
  BUILDER_CONFIGS = [tfds.core.BuilderConfig(name=n)
                     for n in ("train_test", "all_three", "train_only")]
  _SPLITS = {"train": range(20), "test": range(100, 106), "validation": range(200, 204)}

  def _info(self):
    return tfds.core.DatasetInfo(
        builder=self,
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(None, None, 3)),
            "label": tfds.features.ClassLabel(names=["dark", "light"])}),
        supervised_keys=("image", "label"))

  def _split_generators(self, dl_manager):
    names = {"train_test": ("train", "test"), "all_three": ("train", "test", "validation"),
             "train_only": ("train",)}[self.builder_config.name]
    return {name: self._generate_examples(self._SPLITS[name]) for name in names}

  def _generate_examples(self, ids):
    for i in ids:
      yield i, {"image": np.full((8 + i % 3, 10, 3), i, np.uint8), "label": i % 2}


class SquishTestText(tfds.core.GeneratorBasedBuilder):
  """Not image classification: text and a label."""

  VERSION = tfds.core.Version("1.0.0")

  def _info(self):
    return tfds.core.DatasetInfo(
        builder=self, features=tfds.features.FeaturesDict({
            "text": tfds.features.Text(), "label": tfds.features.ClassLabel(num_classes=2)}))

  def _split_generators(self, dl_manager):
    raise AssertionError("never prepared: the feature check comes first")

  def _generate_examples(self):
    yield from ()


class SquishTestOffline(tfds.core.GeneratorBasedBuilder):
  """An image builder whose download fails the way it does on a machine without network."""

  VERSION = tfds.core.Version("1.0.0")

  def _info(self):
    return tfds.core.DatasetInfo(
        builder=self, features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(None, None, 3)),
            "label": tfds.features.ClassLabel(num_classes=2)}))

  def _split_generators(self, dl_manager):
    raise ConnectionError("Failed to resolve 'example.invalid' (Name or service not known)")

  def _generate_examples(self):
    yield from ()


def _raw_ids(ds):
  """The patch id of each raw (uint8) example of a SquishTestPatches split."""
  return sorted(int(x[0, 0, 0]) for x, _ in ds.as_numpy_iterator())


def test_tfds_builder_by_name_carves_a_seeded_validation_split(tmp_path):
  ds = data.load("squish_test_patches", image_size=32, data_dir=str(tmp_path), seed=0)
  assert ds.class_names == ["dark", "light"]
  # 20 train examples: round(2.0) = 2 carved for validation; test is the builder's own.
  assert ds.sizes == {"train": 18, "validation": 2, "test": 6}
  for split in data.SPLITS:
    x, y = data.as_numpy(ds.split(split))
    assert x.shape == (ds.sizes[split], 32, 32, 3) and set(y) <= {0, 1}
    assert x.min() >= 0.0 and x.max() <= 1.0

  raw = data.load_raw("squish_test_patches", data_dir=str(tmp_path), seed=0)
  train, val, test = (_raw_ids(raw.splits[s]) for s in data.SPLITS)
  assert sorted(train + val) == list(range(20)) and not set(train) & set(val)
  assert test == list(range(100, 106))
  for x, y in raw.splits["validation"].as_numpy_iterator():
    assert y == x[0, 0, 0] % 2  # labels travel with their images through the carving
  again = data.load_raw("squish_test_patches", data_dir=str(tmp_path), seed=0)
  assert _raw_ids(again.splits["validation"]) == val
  other = [_raw_ids(data.load_raw("squish_test_patches", data_dir=str(tmp_path),
                                  seed=s).splits["validation"]) for s in (1, 2, 3)]
  assert any(ids != val for ids in other)


@pytest.mark.parametrize("config, sizes", [
    # The builder's own validation and test splits: nothing carved.
    ("all_three", {"train": 20, "validation": 4, "test": 6}),
    # Only 'train': 10% each for validation and test, round(2.0) = 2.
    ("train_only", {"train": 16, "validation": 2, "test": 2}),
])
def test_tfds_builder_split_layouts(tmp_path, config, sizes):
  raw = data.load_raw(f"squish_test_patches/{config}", data_dir=str(tmp_path), seed=0)
  assert raw.sizes == sizes
  ids = {s: _raw_ids(raw.splits[s]) for s in data.SPLITS}
  assert {s: len(v) for s, v in ids.items()} == sizes
  if config == "all_three":
    assert ids["validation"] == list(range(200, 204)) and ids["test"] == list(range(100, 106))
  else:
    assert sorted(sum(ids.values(), [])) == list(range(20))


def test_tfds_unknown_name():
  with pytest.raises(UserError) as e:
    data.load("no_such_data_set_xyz", image_size=32)
  _one_line_error(e, "no_such_data_set_xyz", "digits", "fashion_mnist", "imagenet10",
                  "folder:PATH", "TensorFlow Datasets")


def test_tfds_builder_that_is_not_image_classification(tmp_path):
  with pytest.raises(UserError) as e:
    data.load("squish_test_text", image_size=32, data_dir=str(tmp_path))
  _one_line_error(e, "squish_test_text", "not image classification", "'text'")


def test_tfds_builder_that_cannot_be_downloaded_here(tmp_path):
  with pytest.raises(UserError) as e:
    data.load("squish_test_offline", image_size=32, data_dir=str(tmp_path))
  _one_line_error(e, "squish_test_offline", str(tmp_path), "not prepared", "ConnectionError",
                  "tfds build squish_test_offline", "--data_dir")


def test_tfds_manual_download_builder_without_its_files(tmp_path):
  # TFDS's real imagenet2012 builder: its manual directory is missing, nothing is downloaded.
  with pytest.raises(UserError) as e:
    data.load("imagenet2012", image_size=32, data_dir=str(tmp_path))
  _one_line_error(e, "imagenet2012", "not prepared", f"{tmp_path}/downloads/manual",
                  "MANUAL_DOWNLOAD_INSTRUCTIONS", "--data_dir")


# ---------------------------------------------------------------- imagenet10

# Solid colours per class; the foreign wnid n01440764 (tench) must never appear.
_PEN, _PHONE, _FOREIGN = "n02783161", "n03584254", "n01440764"
_COLOURS = {_PEN: (250, 10, 10), _PHONE: (10, 250, 10), _FOREIGN: (10, 10, 250)}


def _add(tar, name, payload):
  info = tarfile.TarInfo(name)
  info.size = len(payload)
  tar.addfile(info, io.BytesIO(payload))


def _tar_bytes(files):
  buffer = io.BytesIO()
  with tarfile.open(fileobj=buffer, mode="w") as tar:
    for name, payload in files.items():
      _add(tar, name, payload)
  return buffer.getvalue()


def _tfds_val_indices(wnid, count):
  """1-based ILSVRC validation image numbers that TFDS's shipped label file gives `wnid`."""
  labels = tfds.core.tfds_path("datasets/imagenet2012/validation_labels.txt").read_text().split()
  return [i for i, w in enumerate(labels, start=1) if w == wnid][:count]


def _fake_ilsvrc(manual, val_names):
  """ILSVRC2012-style archives: 3 train images each for pen, cell phone and a foreign wnid."""
  os.makedirs(manual, exist_ok=True)
  per_class = {wnid: _tar_bytes({f"{wnid}_{k}.JPEG": _jpeg(_COLOURS[wnid]) for k in range(3)})
               for wnid in (_PEN, _FOREIGN, _PHONE)}
  with open(os.path.join(manual, imagenet10.TRAIN_ARCHIVE), "wb") as f:
    f.write(_tar_bytes({f"{wnid}.tar": payload for wnid, payload in per_class.items()}))
  with open(os.path.join(manual, imagenet10.VAL_ARCHIVE), "wb") as f:
    f.write(_tar_bytes({name: _jpeg(_COLOURS[wnid]) for name, wnid in val_names.items()}))


def _colour_labels(ds):
  """(dominant channel, label) of each raw image: channel 0 is pen's red, 1 the phone's green."""
  return sorted((int(np.argmax(x.mean(axis=(0, 1)))), int(y)) for x, y in ds.as_numpy_iterator())


def test_imagenet10_keeps_its_ten_classes_from_fake_ilsvrc_archives(tmp_path):
  val_names = {}
  for wnid, count in ((_PEN, 2), (_PHONE, 1), (_FOREIGN, 2)):
    for i in _tfds_val_indices(wnid, count):
      val_names[f"ILSVRC2012_val_{i:08d}.JPEG"] = wnid
  _fake_ilsvrc(tmp_path / "downloads" / "manual", val_names)

  ds = data.load("imagenet10", image_size=32, data_dir=str(tmp_path), seed=0)
  assert ds.class_names == ["pen", "cell phone", "keyboard", "wallet", "water bottle", "cup",
                            "car", "monitor", "computer mouse", "tennis ball"]
  # 6 train images of the two kept classes: round(0.6) = 1 carved for validation.
  assert ds.sizes == {"train": 5, "validation": 1, "test": 3}
  x, _ = data.as_numpy(ds.train)
  assert x.shape == (5, 32, 32, 3)

  raw = data.load_raw("imagenet10", data_dir=str(tmp_path), seed=0)
  train = _colour_labels(raw.splits["train"]) + _colour_labels(raw.splits["validation"])
  assert train == [(0, 0)] * 3 + [(1, 1)] * 3  # pen is label 0, cell phone label 1; no tench
  assert _colour_labels(raw.splits["test"]) == [(0, 0), (0, 0), (1, 1)]


def test_imagenet10_validation_labels_from_a_solution_csv(tmp_path):
  manual = tmp_path / "downloads" / "manual"
  # Labels here contradict TFDS's file on purpose, so the test sees which one was used.
  names = {"ILSVRC2012_val_00000001.JPEG": _PHONE, "ILSVRC2012_val_00000002.JPEG": _PEN,
           "ILSVRC2012_val_00000003.JPEG": _FOREIGN}
  _fake_ilsvrc(manual, names)
  (manual / imagenet10.VAL_SOLUTION).write_text(
      "ImageId,PredictionString\n" + "".join(
          f"{name[:-5]},{wnid} 1 2 30 40 {wnid} 5 6 7 8\n" for name, wnid in names.items()))
  raw = data.load_raw("imagenet10", data_dir=str(tmp_path), seed=0)
  assert raw.sizes["test"] == 2
  assert _colour_labels(raw.splits["test"]) == [(0, 0), (1, 1)]


def test_imagenet10_missing_archives(tmp_path):
  manual = str(tmp_path / "downloads" / "manual")
  with pytest.raises(UserError) as e:
    data.load("imagenet10", image_size=32, data_dir=str(tmp_path))
  _one_line_error(e, "ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar", manual, "--data_dir")


# ---------------------------------------------------------------- folder:PATH


def _image_folder(root, counts=None):
  """cat/ (PNG) and dog/ (JPEG) images of assorted sizes, one grey; returns the root as str."""
  counts = counts or {"cat": 6, "dog": 8}
  rng = np.random.default_rng(0)
  for name, count in counts.items():
    os.makedirs(root / name, exist_ok=True)
    for k in range(count):
      channels = 1 if k == 0 else 3
      pixels = rng.integers(0, 256, (20 + k, 24, channels), dtype=np.uint8)
      if name == "cat":
        (root / name / f"{k}.png").write_bytes(tf.io.encode_png(pixels).numpy())
      else:
        (root / name / f"{k}.JPG").write_bytes(tf.io.encode_jpeg(pixels).numpy())
  (root / "dog" / "notes.txt").write_text("not an image, and not named like one: ignored")
  return str(root)


def test_folder_splits_and_decodes(tmp_path):
  path = _image_folder(tmp_path)
  ds = data.load(f"folder:{path}", image_size=32, seed=0)
  assert ds.class_names == ["cat", "dog"]
  # 14 images: round(2.1) = 2 each for validation and test.
  assert ds.sizes == {"train": 10, "validation": 2, "test": 2}
  labels = []
  for split in data.SPLITS:
    x, y = data.as_numpy(ds.split(split))
    assert x.shape == (ds.sizes[split], 32, 32, 3) and x.min() >= 0.0 and x.max() <= 1.0
    labels += list(y)
  assert sorted(labels) == [0] * 6 + [1] * 8

  raw = data.load_raw(f"folder:{path}", seed=0)
  shapes = sorted(tuple(x.shape) for x, _ in raw.splits["train"].as_numpy_iterator())
  assert all(s[1:] == (24, 3) for s in shapes)  # grey files come out as RGB too
  again = data.as_numpy(data.load(f"folder:{path}", image_size=32, seed=0).test)
  np.testing.assert_array_equal(again[0], data.as_numpy(ds.test)[0])


def test_folder_missing_path(tmp_path):
  with pytest.raises(UserError) as e:
    data.load(f"folder:{tmp_path}/nowhere", image_size=32)
  _one_line_error(e, f"{tmp_path}/nowhere", "does not exist", "folder:PATH")


def test_folder_path_is_a_file(tmp_path):
  (tmp_path / "f.txt").write_text("x")
  with pytest.raises(UserError) as e:
    data.load(f"folder:{tmp_path}/f.txt", image_size=32)
  _one_line_error(e, "f.txt", "is not a folder")


def test_folder_without_class_subfolders(tmp_path):
  (tmp_path / "loose.jpg").write_bytes(_jpeg((1, 2, 3)))
  with pytest.raises(UserError) as e:
    data.load(f"folder:{tmp_path}", image_size=32)
  _one_line_error(e, str(tmp_path), "no class sub-folders")


def test_folder_with_one_class(tmp_path):
  _image_folder(tmp_path, {"dog": 6})
  with pytest.raises(UserError) as e:
    data.load(f"folder:{tmp_path}", image_size=32)
  _one_line_error(e, str(tmp_path), "only one class", "dog", "at least 2 classes")


def test_folder_with_an_empty_class(tmp_path):
  _image_folder(tmp_path)
  (tmp_path / "emu").mkdir()
  (tmp_path / "emu" / "readme.md").write_text("no images yet")
  with pytest.raises(UserError) as e:
    data.load(f"folder:{tmp_path}", image_size=32)
  _one_line_error(e, str(tmp_path / "emu"), "no JPEG/PNG images")


def test_folder_with_an_unreadable_file(tmp_path):
  _image_folder(tmp_path)
  os.symlink(tmp_path / "gone.jpg", tmp_path / "cat" / "link.jpg")  # reading it fails
  with pytest.raises(UserError) as e:
    data.load(f"folder:{tmp_path}", image_size=32)
  _one_line_error(e, str(tmp_path / "cat" / "link.jpg"), "cannot read", "No such file")


def test_folder_with_a_truncated_jpeg(tmp_path):
  _image_folder(tmp_path)
  bad = tmp_path / "dog" / "3.JPG"
  bad.write_bytes(bad.read_bytes()[:100])
  with pytest.raises(UserError) as e:
    data.load(f"folder:{tmp_path}", image_size=32)
  _one_line_error(e, str(bad), "corrupt", "JPEG", "replace or remove")


def test_folder_with_files_that_are_not_images(tmp_path):
  _image_folder(tmp_path)
  for name in ("a.png", "b.jpg"):
    (tmp_path / "cat" / name).write_text("plain text wearing an image's name")
  with pytest.raises(UserError) as e:
    data.load(f"folder:{tmp_path}", image_size=32)
  _one_line_error(e, str(tmp_path / "cat" / "a.png"), "not a JPEG or PNG", "1 more")


def test_folder_with_too_few_images(tmp_path):
  _image_folder(tmp_path, {"cat": 1, "dog": 2})
  with pytest.raises(UserError) as e:
    data.load(f"folder:{tmp_path}", image_size=32)
  _one_line_error(e, str(tmp_path), "only 3 images", "add more images")


def test_a_tfds_data_set_that_needs_a_download_says_so_when_offline(tmp_path, monkeypatch):
  """TFDS's own `mnist` builder, not prepared here: without network TFDS would retry for
  minutes; the probe (stubbed: tests never touch the network) turns that into one line."""
  from squish_tf.data import tfds_source
  probed = []
  monkeypatch.setattr(tfds_source, "network_problem",
                      lambda *a, **k: probed.append(1) or "no answer within 5 s")
  with pytest.raises(UserError) as e:
    tfds_source.load("mnist", data_dir=str(tmp_path))
  _one_line_error(e, "'mnist'", "network cannot be reached", "no answer within 5 s",
                  "tfds build mnist", "--data_dir")
  assert probed
  assert not any(tmp_path.iterdir())  # nothing was downloaded or half-prepared


def test_the_network_probe_times_out_instead_of_hanging(monkeypatch):
  from squish_tf.data import tfds_source

  def slow(*args, **kwargs):
    import time
    time.sleep(2)
    raise OSError("timed out")  # a lookup that hangs, then fails
  monkeypatch.setattr(tfds_source.socket, "create_connection", slow)
  assert "no answer" in tfds_source.network_problem(("example.invalid", 443), timeout=0.2)


# ---------------------------------------------------------------- fashion_mnist / mnist (IDX)


def _write_idx(path, array):
  """A gzipped IDX file as the standard distributes them: magic, big-endian dims, uint8."""
  import gzip
  import struct
  array = np.asarray(array, np.uint8)
  header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
  with gzip.open(path, "wb") as f:
    f.write(header + array.tobytes())


def _idx_dir(directory, per_class_train=20, per_class_test=4, classes=10):
  """Tiny IDX files: image i of a split has every pixel = its index mod 256, label = i % 10."""
  os.makedirs(directory, exist_ok=True)
  for split, n in (("train", per_class_train * classes), ("t10k", per_class_test * classes)):
    idx = np.arange(n)
    _write_idx(os.path.join(directory, f"{split}-images-idx3-ubyte.gz"),
               np.broadcast_to((idx % 256)[:, None, None], (n, 28, 28)))
    _write_idx(os.path.join(directory, f"{split}-labels-idx1-ubyte.gz"), idx % classes)
  return directory


def test_fashion_mnist_from_idx_files_in_data_dir(tmp_path):
  from squish_tf.data import idx
  _idx_dir(str(tmp_path / "fashion-mnist"))
  ds = data.load("fashion_mnist", image_size=32, data_dir=str(tmp_path), seed=0)
  assert ds.class_names == idx.CLASS_NAMES["fashion_mnist"]
  # 20 a class: 2 (a tenth) of each class for validation, 18 for training; test is t10k.
  assert ds.sizes == {"train": 180, "validation": 20, "test": 40}
  x, y = data.as_numpy(ds.validation)
  assert x.shape == (20, 32, 32, 3) and np.bincount(y).tolist() == [2] * 10
  raw = data.load_raw("fashion_mnist", data_dir=str(tmp_path), seed=0)
  ids = {s: sorted(int(im[0, 0, 0]) for im, _ in raw.splits[s].as_numpy_iterator())
         for s in data.SPLITS}
  assert not set(ids["train"]) & set(ids["validation"])
  assert sorted(ids["train"] + ids["validation"]) == list(range(200))
  for im, label in raw.splits["train"].as_numpy_iterator():
    assert label == im[0, 0, 0] % 10  # labels travel with their images
  assert raw.splits["test"].cardinality() == 40


def test_a_per_class_subset_keeps_the_validation_split_and_counts_per_class(tmp_path):
  _idx_dir(str(tmp_path))
  full = data.load_raw("mnist", data_dir=str(tmp_path), seed=5)
  some = data.load_raw("mnist:7", data_dir=str(tmp_path), seed=5)
  assert some.sizes == {"train": 70, "validation": 20, "test": 40}
  val = lambda r: sorted(int(im[0, 0, 0]) for im, _ in r.splits["validation"].as_numpy_iterator())
  assert val(some) == val(full)  # comparable across subset sizes
  labels = [int(y) for _, y in some.splits["train"].as_numpy_iterator()]
  assert np.bincount(labels).tolist() == [7] * 10
  with pytest.raises(UserError, match="at most 18 a class"):
    data.load_raw("mnist:19", data_dir=str(tmp_path), seed=5)
  with pytest.raises(UserError, match="mnist:1000"):
    data.load_raw("mnist:many", data_dir=str(tmp_path))


def test_damaged_idx_files_are_named(tmp_path):
  directory = _idx_dir(str(tmp_path))
  path = os.path.join(directory, "t10k-labels-idx1-ubyte.gz")
  _write_idx(path, np.zeros((3, 2), np.uint8))  # an image file where labels belong
  with pytest.raises(UserError) as e:
    data.load_raw("mnist", data_dir=directory)
  _one_line_error(e, path, "not a readable IDX file", "original download")
  _write_idx(path, np.zeros(5, np.uint8))  # too few labels
  with pytest.raises(UserError) as e:
    data.load_raw("mnist", data_dir=directory)
  _one_line_error(e, "t10k-images-idx3-ubyte.gz has 40 images", "5 labels")


def test_missing_idx_files_name_both_ways_to_get_them(tmp_path, monkeypatch):
  from squish_tf.data import idx, tfds_source
  monkeypatch.setattr(idx, "DEBIAN_DIRS", {"fashion_mnist": str(tmp_path / "not_installed")})
  monkeypatch.setattr(tfds_source, "network_problem", lambda *a, **k: "offline")
  with pytest.raises(UserError) as e:
    data.load_raw("fashion_mnist", data_dir=str(tmp_path / "empty"))
  _one_line_error(e, "apt-get install dataset-fashion-mnist", "--data_dir",
                  "TFDS could not provide them", "offline")
  assert not (tmp_path / "empty").exists()


def test_a_data_dir_without_the_files_says_where_they_were_read_from(
    tmp_path, monkeypatch, caplog):
  """A mistyped --data_dir read the Debian copy without a word (and config.json kept the typo).
  One that is not there is no error: TFDS may download into it where the network allows."""
  from squish_tf.data import idx
  monkeypatch.setattr(idx, "DEBIAN_DIRS", {"fashion_mnist": _idx_dir(str(tmp_path / "deb"))})
  (tmp_path / "other").mkdir()
  for name, what in (("typo", "does not exist, so it holds no"), ("other", "holds no")):
    raw = data.load_raw("fashion_mnist", data_dir=str(tmp_path / name))
    assert raw.sizes["test"] == 40  # the Debian copy, and said so
    assert (f"--data_dir={tmp_path / name} {what} fashion_mnist IDX files; reading them from "
            f"{tmp_path / 'deb'}") in caplog.text


def test_missing_idx_files_of_a_set_without_a_package_name_the_data_dir_flag(tmp_path):
  with pytest.raises(UserError) as e:
    data.load_raw("mnist:300", data_dir=str(tmp_path / "nodata"))
  _one_line_error(e, "mnist's four IDX files are not in --data_dir (")


def test_an_unknown_version_of_a_tfds_set_is_one_line(tmp_path):
  from squish_tf.data import tfds_source
  with pytest.raises(UserError) as e:
    tfds_source.load("mnist:9.9.9", data_dir=str(tmp_path))
  _one_line_error(e, "unknown data set 'mnist:9.9.9'")


@pytest.mark.parametrize("name,words", [
    ("folder:", ["--dataset=folder: names no folder: pass --dataset=folder:PATH"]),
    ("digits:50", ["--dataset=digits:50: only fashion_mnist and mnist take :N",
                   "pass --dataset=digits"])])
def test_a_dataset_name_missing_its_folder_or_with_a_count_it_cannot_take_is_named(name, words):
  with pytest.raises(UserError) as e:
    data.load_raw(name)
  _one_line_error(e, *words)

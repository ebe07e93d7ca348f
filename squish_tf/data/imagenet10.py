"""`imagenet10`: the SquishedNets paper's ImageNet-10, a TFDS builder over the ILSVRC2012 archives.

The ten classes are the wnids of the paper's Table 1, in the table's reading order (row by row).
Labels are the paper's class names; two differ from ImageNet's own synset words (n03584254 is
ImageNet's "iPod", n04037443 its "racer, race car"), and the paper's names are kept.

The builder reads, from its manual directory `<data_dir>/downloads/manual` (`data_dir` being
--data_dir, or TFDS's default `~/tensorflow_datasets`):
- ILSVRC2012_img_train.tar: a tar of one tar per wnid; only the ten wnids' tars are read;
- ILSVRC2012_img_val.tar: the 50,000 validation JPEGs, of which the ten classes' 500 are kept.
Validation labels come from the file TFDS ships for its own `imagenet2012` builder (one wnid per
line, in `ILSVRC2012_val_NNNNNNNN.JPEG` order); a `LOC_val_solution.csv` (Kaggle's ImageNet
localization layout: `ImageId,PredictionString`, first token the wnid) in the manual directory
takes precedence over it.

Splits returned by `load`: train and a seeded 10% validation carved from the ILSVRC train
images; test = the ILSVRC validation images of the ten classes.
"""

from __future__ import annotations

import csv
import os
import re
import tarfile

import tensorflow_datasets as tfds

from squish_tf.data import base, tfds_source
from squish_tf.errors import UserError

NAME = "imagenet10"
CLASSES = (  # (wnid, class name) of Table 1, read row by row
    ("n02783161", "pen"), ("n03584254", "cell phone"),
    ("n03085013", "keyboard"), ("n04548362", "wallet"),
    ("n04557648", "water bottle"), ("n07930864", "cup"),
    ("n04037443", "car"), ("n03782006", "monitor"),
    ("n03793489", "computer mouse"), ("n04409515", "tennis ball"),
)
WNIDS = tuple(wnid for wnid, _ in CLASSES)
CLASS_NAMES = tuple(name for _, name in CLASSES)
TRAIN_ARCHIVE = "ILSVRC2012_img_train.tar"
VAL_ARCHIVE = "ILSVRC2012_img_val.tar"
VAL_SOLUTION = "LOC_val_solution.csv"
_TFDS_VAL_LABELS = "datasets/imagenet2012/validation_labels.txt"
_VAL_NAME = re.compile(r"ILSVRC2012_val_(\d{8})\.JPEG$")


class Imagenet10(tfds.core.GeneratorBasedBuilder):
  """The ten ILSVRC2012 classes of the SquishedNets paper (Table 1)."""

  name = NAME
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Ten classes of Table 1; ILSVRC2012 train and validation images."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = f"""\
  Put {TRAIN_ARCHIVE} and {VAL_ARCHIVE} (from https://image-net.org/download-images,
  registration needed) in the manual directory, by default <data_dir>/downloads/manual.
  Optionally add {VAL_SOLUTION} there to override the validation labels TFDS ships.
  """

  def _info(self):
    return tfds.core.DatasetInfo(
        builder=self,
        description="ImageNet-10 of Wong et al. 2017 (SquishedNets): ten ILSVRC2012 classes.",
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(encoding_format="jpeg"),
            "label": tfds.features.ClassLabel(names=CLASS_NAMES),
            "file_name": tfds.features.Text(),
        }),
        supervised_keys=("image", "label"),
        homepage="https://image-net.org/",
    )

  def _split_generators(self, dl_manager):
    manual = os.fspath(dl_manager.manual_dir)
    return {
        "train": self._generate_examples(os.path.join(manual, TRAIN_ARCHIVE)),
        "validation": self._generate_examples(os.path.join(manual, VAL_ARCHIVE),
                                              validation_labels(manual)),
    }

  def _generate_examples(self, archive, labels=None):
    """Train archive when `labels` is None, else the validation archive labelled by `labels`."""
    if labels is None:
      yield from _train_examples(archive)
    else:
      yield from _validation_examples(archive, labels)


def _train_examples(archive: str):
  # Opened from a seekable file, tarfile skips the 990 unwanted class tars without reading them.
  with tarfile.open(archive, mode="r:") as outer:
    for member in outer:
      wnid = os.path.splitext(os.path.basename(member.name))[0]
      if not member.isfile() or wnid not in WNIDS:
        continue
      with tarfile.open(fileobj=outer.extractfile(member), mode="r:") as inner:
        for image in inner:
          if image.isfile():
            file_name = os.path.basename(image.name)
            yield file_name, {"image": inner.extractfile(image).read(),
                              "label": WNIDS.index(wnid), "file_name": file_name}


def _validation_examples(archive: str, labels: dict):
  with tarfile.open(archive, mode="r:") as tar:
    for member in tar:
      file_name = os.path.basename(member.name)
      wnid = labels.get(file_name)
      if member.isfile() and wnid in WNIDS:
        yield file_name, {"image": tar.extractfile(member).read(),
                          "label": WNIDS.index(wnid), "file_name": file_name}


def validation_labels(manual_dir: str) -> dict:
  """ILSVRC2012 validation file name -> wnid, from LOC_val_solution.csv or TFDS's own file."""
  solution = os.path.join(manual_dir, VAL_SOLUTION)
  if os.path.exists(solution):
    with open(solution, newline="") as f:
      rows = list(csv.DictReader(f))
    if not rows or not {"ImageId", "PredictionString"} <= set(rows[0]):
      raise UserError(f"{solution} is not an ImageNet solution file (needs ImageId and "
                      f"PredictionString columns): fix it or remove it to use TFDS's labels")
    return {f"{r['ImageId']}.JPEG": r["PredictionString"].split()[0] for r in rows
            if r["PredictionString"].strip()}
  shipped = tfds.core.tfds_path(_TFDS_VAL_LABELS)
  if not shipped.exists():
    raise UserError(f"TFDS's ImageNet validation labels ({shipped}) are missing from this "
                    f"installation: put {VAL_SOLUTION} in {manual_dir}")
  wnids = shipped.read_text().split()
  return {f"ILSVRC2012_val_{i:08d}.JPEG": wnid for i, wnid in enumerate(wnids, start=1)}


def manual_dir(builder) -> str:
  """Where the archives must be: `<data_dir>/downloads/manual`, TFDS's default manual directory."""
  return os.path.join(os.fspath(builder.data_dir_root), "downloads", "manual")


def load(data_dir: str | None = None, seed: int = 0) -> base.RawSplits:
  """Prepares ImageNet-10 in `data_dir` (first use only) and returns its splits."""
  builder = Imagenet10(data_dir=data_dir)
  if not builder.is_prepared():
    manual = manual_dir(builder)
    missing = [f for f in (TRAIN_ARCHIVE, VAL_ARCHIVE)
               if not os.path.isfile(os.path.join(manual, f))]
    if missing:
      raise UserError(
          f"imagenet10 needs {TRAIN_ARCHIVE} and {VAL_ARCHIVE} in {manual} (missing: "
          f"{', '.join(missing)}): download them from image-net.org into that folder, or pass "
          f"--data_dir=DIR with them in DIR/downloads/manual")
    tfds_source.prepare(
        builder, NAME, tfds.download.DownloadConfig(manual_dir=manual),
        fix=f"check that {TRAIN_ARCHIVE} and {VAL_ARCHIVE} in {manual} are the complete "
            f"ILSVRC2012 archives")
  return tfds_source.from_builder(builder, seed)

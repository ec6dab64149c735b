"""Describe a folder of galaxy images with a bank of COSFIRE filters, and save the result.

A *bank* holds filters configured on prototypes of every class; the *descriptor* of an image
is each filter's strongest response to it (a rotation-invariant vector, one value per
filter). This script builds a small bank from a labelled data set (or loads one you saved
with ``cosfire-hash configure``), describes every image of a folder, and writes the
descriptors with their file names to an ``.npz`` that ``cosfire-hash`` and
``cosfire.load_descriptors`` read.

    python examples/describe_folder.py                        # synthetic galaxies
    python examples/describe_folder.py my_cutouts/ --bank bank.json -o cutouts.npz
    python examples/describe_folder.py my_cutouts/ --data first

Without a folder it writes eight synthetic galaxies into ``cutouts/`` beside the output and
describes those. The bank comes from ``--bank``, else from the training images of ``--data``
(FIRST when ``COSFIRE_HASH_DATA`` is set, else the synthetic galaxies).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np

import cosfire
from cosfire.datasets import open_dataset
from cosfire.images import iter_image_files
from cosfire.synthetic import GALAXY_KINDS, make_galaxy


def example_cutouts(folder: Path) -> Path:
    """Write two synthetic galaxies of every class into ``folder`` (a stand-in for yours)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for kind in GALAXY_KINDS:
        for number in range(2):
            cv2.imwrite(str(folder / f"{kind}_{number}.png"), make_galaxy(kind, rng=rng))
    return folder


def small_bank(data: str, per_class: int) -> cosfire.FilterBank:
    """A bank of ``per_class`` filters per class, configured on the data set's training set."""
    dataset = open_dataset(data)
    train = dataset.items("train")
    return cosfire.configure_bank(
        train,
        [item.label for item in train],
        class_names=dataset.class_names,
        per_class=per_class,  # the papers use 93; a few are enough to see how it works
        read=dataset.read,  # the items are read only when a prototype is needed
        sources=[dataset.name(item) for item in train],
    )


def main(argv: list[str] | None = None) -> cosfire.DescriptorSet:
    """Run the example; return the descriptors written."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", help="folder of PNG/JPEG/FITS images")
    parser.add_argument("--bank", help="a bank JSON from `cosfire-hash configure`")
    parser.add_argument("--data", help="data set to configure a bank on: synthetic, first, path")
    parser.add_argument("--per-class", type=int, default=3, help="filters per class")
    parser.add_argument("-o", "--output", default="runs/examples/cutouts.npz")
    args = parser.parse_args(argv)

    output = Path(args.output)
    folder = Path(args.folder or example_cutouts(output.parent / "cutouts"))
    if args.bank:
        bank = cosfire.load_bank(args.bank)
    else:
        data = args.data or os.environ.get("COSFIRE_HASH_DATA") or "synthetic"
        bank = small_bank(data, args.per_class)
    print(f"bank: {bank.n_filters} filters ({', '.join(bank.class_names)})")

    # describe: file paths are read inside the (parallel) workers; one row per image
    paths = iter_image_files(folder)
    descriptors = cosfire.describe(bank, paths, n_jobs=1)
    print(f"described {len(paths)} images of {folder}: descriptors {descriptors.shape}")
    for path, row in list(zip(paths, descriptors, strict=True))[:4]:
        strongest = int(np.argmax(row))
        print(f"  {path.name:24s} strongest filter {strongest} ({row[strongest]:.3f})")

    # save: unknown classes are -1; the bank's SHA-256 ties the file to the bank
    described = cosfire.DescriptorSet(
        descriptors=descriptors,
        labels=np.full(len(paths), -1),
        class_names=bank.class_names,
        paths=tuple(str(path) for path in paths),
        bank_sha256=bank.sha256,
        filter_class=np.array(bank.column_class),
        filter_index=np.array(bank.column_index),
    )
    cosfire.save_descriptors(described, output)
    print(f"wrote {output}")
    return described


if __name__ == "__main__":
    main()

"""Configure one COSFIRE filter from one example galaxy, and see what it looks for.

A COSFIRE filter is trained on a single prototype: around a centre it records where, on
circles of a few radii, a Difference-of-Gaussians responds (the *tuples*). Applied to another
image it responds where the same arrangement appears, at any of 24 rotations. This script
takes the first galaxy of one class, configures a filter on it with the radio papers'
settings (the defaults), applies it to a few galaxies of every class, and draws the filter
over its prototype beside its response (zoomed to the filter's support).

    python examples/explain_a_filter.py                      # the synthetic galaxies
    python examples/explain_a_filter.py first --kind FRII    # FIRST (COSFIRE_HASH_DATA)
    python examples/explain_a_filter.py path/to/galaxy_data.zip -o filter.png

Without a data argument it uses FIRST when ``COSFIRE_HASH_DATA`` is set, else the synthetic
galaxies that ship with the code (generated on first use).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

import cosfire
from cosfire.datasets import open_dataset


def main(argv: list[str] | None = None) -> dict:
    """Run the example; return the filter, its responses and the figure's path."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", help="'synthetic', 'first', a zip or a folder")
    parser.add_argument("--kind", default="FRII", help="class of the prototype galaxy")
    parser.add_argument("--per-class", type=int, default=8, help="galaxies tried per class")
    parser.add_argument("-o", "--output", default="runs/examples/filter.png")
    args = parser.parse_args(argv)
    dataset = open_dataset(args.data or os.environ.get("COSFIRE_HASH_DATA") or "synthetic")

    # 1. the prototype: the first training galaxy of the chosen class, preprocessed like a
    #    bank's images (central 150 px crop, background clipped)
    preprocessing = cosfire.Preprocessing()
    train = dataset.items("train")
    prototype_item = next(item for item in train if item.class_name == args.kind)
    prototype = cosfire.preprocess(dataset.read(prototype_item), preprocessing)

    # 2. the filter: tuples where the DoG responds on circles around the image centre
    galaxy_filter = cosfire.configure(
        prototype, label=args.kind, source=dataset.name(prototype_item)
    )
    radii = sorted({float(rho) for rho in galaxy_filter.rhos})
    print(f"prototype {Path(dataset.name(prototype_item)).name} ({args.kind}):")
    print(f"  {len(galaxy_filter.tuples)} tuples on circles of radius {radii} px")

    # 3. its strongest response (over 24 rotations) to a few other galaxies of every class:
    #    a COSFIRE filter is selective, it answers only where its arrangement reappears
    responses: dict[str, list[float]] = {}
    best = (-1.0, None)
    for item in train:
        values = responses.setdefault(item.class_name, [])
        if item == prototype_item or len(values) >= args.per_class:
            continue
        image = cosfire.preprocess(dataset.read(item), preprocessing)
        values.append(float(cosfire.apply(galaxy_filter, image).max()))
        if item.class_name == args.kind and values[-1] > best[0]:
            best = (values[-1], image)
    for class_name, values in responses.items():
        answered = sum(value > 0 for value in values)
        print(
            f"  {class_name:8s} responds to {answered} of {len(values)}, "
            f"mean strongest response {np.mean(values):.3f}"
        )

    # 4. the picture: tuples over the prototype, then the response map on the galaxy of the
    #    same class it answered most strongly, zoomed to the filter's support
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    cosfire.explain(galaxy_filter, prototype, best[1], path=output)
    print(f"wrote {output}")
    return {"filter": galaxy_filter, "responses": responses, "figure": output}


if __name__ == "__main__":
    main()

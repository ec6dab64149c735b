"""``cosfire-hash search``: the galaxies of an archive most similar to query galaxies."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

__all__ = ["search"]


@click.command()
@click.argument(
    "archive_path",
    metavar="ARCHIVE.chx",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.argument("queries", metavar="QUERY...", nargs=-1, required=True)
@click.option(
    "-k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="Results per query."
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable list.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw every query beside its top-k galaxies into this PNG.",
)
@click.option(
    "--explain",
    "explain_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw why the first query matched one result (the filters that respond most "
    "strongly to both) into this PNG.",
)
@click.option(
    "--explain-rank",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Which result of the first query --explain draws.",
)
@click.option(
    "--bank",
    "bank_override",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The archive's filter bank, if it moved.",
)
@click.option(
    "--model",
    "model_override",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The archive's hashing model, if it moved.",
)
def search(
    archive_path: Path,
    queries: tuple[str, ...],
    k: int,
    as_json: bool,
    plot: Path | None,
    explain_path: Path | None,
    explain_rank: int,
    bank_override: Path | None,
    model_override: Path | None,
) -> None:
    """Find the galaxies of ARCHIVE most similar to each QUERY.

    QUERY is an image file (described with the archive's bank and hashed with its model; a CNN
    model hashes it directly), a descriptor .npz, or the path or file name of one of the
    archive's own galaxies (its stored code is the query). An archive indexed without --bank
    is searched by descriptor files and by its own galaxies only. Results are ordered by
    Hamming distance, ties by archive order.

    Every result also gets the angle (degrees, counter-clockwise) by which it is turned
    against its query, `angle_deg`, estimated from the rotations at which the bank's filters
    responded to both (null when no filter responded to both). Archives and descriptor files
    written without these angles give no angle; the command says so once.
    """
    from cli._encoding import require_bank_for_images
    from cli._provenance import archive_bank_and_model
    from retrieval.archive import load_archive

    archive = load_archive(archive_path)
    if k > len(archive):
        raise click.BadParameter(f"the archive holds {len(archive)} galaxies", param_hint="-k")
    if explain_path is not None and explain_rank > k:
        raise click.BadParameter(f"there are only {k} results (-k)", param_hint="--explain-rank")
    bank, model = archive_bank_and_model(archive, bank_override, model_override)
    if explain_path is not None and bank is None:
        raise click.UsageError(
            "--explain draws COSFIRE filters, but this archive has no filter bank (built from a "
            "CNN model or from descriptors alone); use an archive from `cosfire-hash index --bank`"
        )
    positions = _item_positions(archive, queries)
    require_bank_for_images([q for q in queries if q not in positions], bank, model)
    names, labels, codes, described = _query_codes(archive, queries, positions, bank, model)
    distances, ids = archive.index.search(codes, k)
    match_angles = _match_angles(archive, described, ids, bank, model)
    results = []
    for query_number, (name, label, row_distances, row_ids) in enumerate(
        zip(names, labels, distances, ids, strict=True)
    ):
        found = [
            {"rank": rank + 1, "path": path, "label": found_label, "distance": int(distance)}
            for rank, ((path, found_label), distance) in enumerate(
                zip(archive.lookup(row_ids), row_distances, strict=True)
            )
        ]
        angles = match_angles[query_number]
        for hit, angle in zip(found, angles if angles is not None else (), strict=False):
            hit["angle_deg"] = round(float(angle), 1) if math.isfinite(angle) else None
        results.append({"query": name, "label": label, "results": found})
    if as_json:
        click.echo(json.dumps(results, indent=1))
    else:
        for entry in results:
            click.echo(
                f"query {entry['query']}"
                + (f" ({entry['label']})" if entry["label"] != "?" else "")
            )
            with_angle = any("angle_deg" in hit for hit in entry["results"])
            angle_header = f"  {'angle':>5}" if with_angle else ""
            click.echo(f"  {'rank':>4}  {'distance':>8}{angle_header}  {'label':<10} path")
            for hit in entry["results"]:
                angle_text = ""
                if with_angle:
                    angle = hit.get("angle_deg")
                    angle_text = f"  {'?' if angle is None else f'{angle:.0f}':>5}"
                click.echo(
                    f"  {hit['rank']:>4}  {hit['distance']:>8}{angle_text}  {hit['label']:<10} "
                    f"{hit['path']}"
                )
    if explain_path is not None:
        _explain(bank, archive, queries[0], names[0], int(ids[0][explain_rank - 1]), explain_path)
        if not as_json:
            click.echo(f"wrote {explain_path}")
    if plot is not None:
        from cli._plots import plot_search_results

        # the thumbnails fit the sources, within the crop the model saw (if it crops)
        seen_px = (
            bank.preprocessing.crop_px
            if bank is not None
            else getattr(getattr(model, "config", None), "crop_px", None)
        )
        plot_search_results(
            [(e["query"], e["label"], e["results"]) for e in results], plot, crop_px=seen_px
        )
        if not as_json:
            click.echo(f"wrote {plot}")


def _item_positions(archive, queries: tuple[str, ...]) -> dict[str, int]:
    """The QUERY arguments that name one of the archive's galaxies (not a file), by position."""
    positions = {}
    for query in queries:
        if Path(query).is_file():
            continue
        position = archive.item_position(query)
        if position is None:
            raise click.BadParameter(
                f"'{query}' is neither a file nor the path or unique file name of a galaxy in "
                "the archive",
                param_hint="QUERY",
            )
        positions[query] = position
    return positions


def _query_codes(archive, queries, positions: dict[str, int], bank, model):
    """Names, class names, packed codes and (with a bank) descriptors of the queries, in order.

    A query naming an archive galaxy takes its stored code, descriptors and angles.
    """
    import numpy as np

    from cli._encoding import DescribedQueries, describe_queries, encode_queries
    from retrieval.codes import as_packed

    names, labels, codes, descriptors, angles, has_angles = [], [], [], [], [], []
    for query in queries:
        if query in positions:
            row = positions[query]
            names.append(archive.paths[row])
            labels.append(archive.label_name(int(archive.labels[row])))
            codes.append(archive.index.codes[row : row + 1])
            if archive.descriptors is not None:
                descriptors.append(archive.descriptors[row : row + 1])
                stored = archive.angles_deg
                kept = stored is not None
                angles.append(stored[row : row + 1] if kept else descriptors[-1] * np.nan)
                has_angles.append([kept])
        elif bank is None:  # a CNN, or descriptors without a bank: codes only
            encoded = encode_queries([query], bank, model)
            names += encoded.names
            labels += encoded.labels
            codes.append(as_packed(encoded.codes, model.bits))
        else:
            found = describe_queries([query], bank, angles=True)
            names += found.names
            labels += found.labels
            codes.append(as_packed(model.encode(found.descriptors), model.bits))
            descriptors.append(found.descriptors)
            angles.append(found.angles_deg)
            has_angles.append(found.has_angles)
    packed = np.concatenate(codes)
    if bank is None or len(descriptors) != len(codes):
        return names, labels, packed, None
    described = DescribedQueries(
        names,
        labels,
        np.concatenate(descriptors),
        np.concatenate(angles),
        np.concatenate(has_angles).astype(bool),
    )
    return names, labels, packed, described


def _match_angles(archive, described, ids, bank, model) -> list:
    """Per query, the angle of each of its results (None where angles are missing).

    Says once on stderr when the archive or a query has no angles.
    """
    from cli._encoding import is_cnn
    from cosfire.orientation import filter_extents_px, match_rotations, rotation_step_deg

    if bank is None:
        click.echo(
            "note: this archive's model is a CNN, which keeps no filter angles; results have no "
            "angle_deg"
            if is_cnn(model)
            else "note: this archive has no filter bank (indexed from descriptors alone), so "
            "the angles of matches are unknown; results have no angle_deg",
            err=True,
        )
        return [None] * len(ids)
    if archive.angles_deg is None or described is None:
        click.echo(
            "note: this archive stores no filter angles (built before they were kept, or "
            "described with --no-angles); results have no angle_deg. Describe and index again "
            "to get them.",
            err=True,
        )
        return [None] * len(ids)
    missing = [
        name for name, kept in zip(described.names, described.has_angles, strict=True) if not kept
    ]
    if missing:
        click.echo(
            f"note: {len(missing)} queries come from descriptor files without angles (first: "
            f"{missing[0]}); their results have no angle_deg",
            err=True,
        )
    step, extents = rotation_step_deg(bank.rotations_deg), filter_extents_px(bank)
    return [
        match_rotations(
            described.angles_deg[row],
            described.descriptors[row],
            archive.angles_deg[row_ids],
            archive.descriptors[row_ids],
            step_deg=step,
            extents_px=extents,
        )
        if described.has_angles[row]
        else None
        for row, row_ids in enumerate(ids)
    ]


def _explain(bank, archive, query: str, query_name: str, match_id: int, output: Path) -> None:
    """Draw why ``query`` matched archive item ``match_id`` into ``output``."""
    from cosfire.datasets import read_source
    from cosfire.explain import explain_match
    from cosfire.images import load_image

    def read(source: str, what: str):
        try:
            return read_source(source)
        except (OSError, ValueError):
            raise click.UsageError(
                f"--explain cannot read the {what} image '{source}'; it has moved or is not a "
                "readable image"
            ) from None

    # an image file is read as given; a descriptor file's row or an archive item from its path
    is_file = Path(query).is_file() and not query.lower().endswith(".npz")
    query_image = load_image(query) if is_file else read(query_name, "query")
    match_path = archive.paths[match_id]
    explain_match(
        bank,
        query_image,
        read(match_path, "matching"),
        path=output,
        query_name=Path(query_name).name,
        match_name=Path(match_path).name,
    )

"""The body sites the hub knows, with their SNOMED CT codes and DICOM context groups.

The table (``data/body_sites.csv``, shipped with the package) holds the common
sites of wound care, burns, dermatology, ophthalmology and endoscopy, copied
from PS3.16 CID 4031 (Common Anatomic Region), CID 4029 (Dermatology Anatomic
Site), CID 4040 (Endoscopy Anatomic Region), CID 6210 (Location in Intestinal
Tract) and CID 4209 (Ophthalmic Anatomic Structure Imaged). It lets a capture
context give only the code: the meaning is filled in, and a paired structure (a
leg, an eye) must say which side.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from encapsulate.context.capture import BodySite
from encapsulate.errors import ContextError

# PS3.16 CID 244 Laterality, used as Anatomic Region Modifier (PS3.3 10.5) where
# laterality is factored out of the site code (CID 4029 note 8).
LATERALITY_MODIFIERS = {
    "R": ("24028007", "SCT", "Right"),
    "L": ("7771000", "SCT", "Left"),
    "B": ("51440002", "SCT", "Bilateral"),
}


@dataclass(frozen=True)
class SiteEntry:
    """One row of the table: ``code`` is "SCT:VALUE"; ``cids`` the context groups it is in."""

    code: str
    meaning: str
    cids: tuple[str, ...]
    paired: bool
    aliases: tuple[str, ...]


@functools.cache
def _table() -> dict[str, SiteEntry]:
    text = resources.files("encapsulate.context").joinpath("data/body_sites.csv").read_text("utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    table: dict[str, SiteEntry] = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        entry = SiteEntry(
            code=row["code"],
            meaning=row["meaning"],
            cids=tuple(row["cids"].split()),
            paired=row["paired"] == "1",
            aliases=tuple(a for a in row["aliases"].split("|") if a),
        )
        table[entry.code] = entry
    return table


def all_sites() -> tuple[SiteEntry, ...]:
    return tuple(_table().values())


def site_entry(code: str) -> SiteEntry | None:
    """The table's row for "SCHEME:VALUE", or None when the hub does not know the code."""
    return _table().get(code)


def body_site(code: str) -> tuple[str, str | None]:
    """(Code Meaning, CID) for a known code; raises ``ContextError`` for an unknown one."""
    entry = site_entry(code)
    if entry is None:
        raise ContextError(f"context.body_site.code {code} is not a body site the hub knows")
    return entry.meaning, (entry.cids[0] if entry.cids else None)


def find_site(name: str) -> SiteEntry | None:
    """The row whose meaning or alias is ``name`` (case-insensitive), for pick lists."""
    wanted = name.strip().casefold()
    for entry in _table().values():
        if wanted == entry.meaning.casefold() or wanted in entry.aliases:
            return entry
    return None


def resolve_site(site: BodySite | None) -> BodySite | None:
    """``site`` with its meaning filled in from the table, its laterality checked.

    A paired structure needs Image Laterality R, L or B (PS3.3 C.7.6.2): "U"
    or none would leave the reader guessing which leg or eye is shown. An
    unknown code passes through unchanged (the hub's table is not all of
    SNOMED CT) and then needs a meaning of its own.
    """
    if site is None:
        return None
    entry = site_entry(site.code)
    if entry is None:
        if not site.meaning:
            raise ContextError(
                f"context.body_site.meaning is required: {site.code} is not in the hub's table"
            )
        return site
    if entry.paired and site.laterality not in ("R", "L", "B"):
        raise ContextError(
            f"context.body_site.laterality must be R, L or B: {entry.meaning} is a paired structure"
        )
    return BodySite(
        code=site.code, meaning=site.meaning or entry.meaning, laterality=site.laterality
    )


def anatomic_region_sequence(site: BodySite, *, with_modifier: bool) -> Sequence:
    """Anatomic Region Sequence (0008,2218), one item (PS3.3 10.5, General Anatomy Macro).

    The context group is not written: Context Identifier would also need the
    group's version (PS3.3 8.8, type 1C), which the table does not track. With
    ``with_modifier`` the side goes in the Anatomic Region Modifier Sequence
    as well, as dermatology does for sites whose codes carry no laterality.
    """
    entry = site_entry(site.code)
    item = Dataset()
    item.CodeValue = site.value
    item.CodingSchemeDesignator = site.scheme
    item.CodeMeaning = site.meaning or (entry.meaning if entry else site.code)
    if with_modifier and site.laterality in LATERALITY_MODIFIERS:
        value, scheme, meaning = LATERALITY_MODIFIERS[site.laterality]
        modifier = Dataset()
        modifier.CodeValue = value
        modifier.CodingSchemeDesignator = scheme
        modifier.CodeMeaning = meaning
        item.AnatomicRegionModifierSequence = Sequence([modifier])
    return Sequence([item])

"""The body-site table's context-group claims, checked against pydicom's copy of PS3.16."""

from __future__ import annotations

import pytest
from pydicom.sr._concepts_dict import concepts

from encapsulate.context.body_sites import all_sites

# The groups the table draws from (body_sites.py docstring).
GROUPS = {"4029", "4031", "4040", "4209", "6210"}


def _groups_of_sct_codes() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for by_code in concepts["SCT"].values():
        for code, (_meaning, cids) in by_code.items():
            found.setdefault(code, set()).update(str(cid) for cid in cids)
    return found


PS3_16 = _groups_of_sct_codes()


@pytest.mark.parametrize("entry", all_sites(), ids=lambda entry: entry.code)
def test_every_claimed_group_holds_the_code(entry):
    scheme, value = entry.code.split(":")
    assert scheme == "SCT"
    claimed = set(entry.cids)
    assert claimed <= GROUPS, f"{entry.code} names a group the table does not draw from"
    missing = claimed - PS3_16.get(value, set())
    assert not missing, f"{entry.code} {entry.meaning} is not in CID {', '.join(sorted(missing))}"


@pytest.mark.parametrize("entry", all_sites(), ids=lambda entry: entry.code)
def test_no_group_of_the_code_is_left_unclaimed(entry):
    value = entry.code.split(":")[1]
    unclaimed = (PS3_16.get(value, set()) & GROUPS) - set(entry.cids)
    assert not unclaimed, f"{entry.code} {entry.meaning} is also in CID {sorted(unclaimed)}"


def test_the_defects_of_the_review_stay_fixed():
    table = {entry.code: entry for entry in all_sites()}
    for code in ("SCT:63337009", "SCT:67734004", "SCT:22943007"):
        assert "4031" not in table[code].cids
    assert "4029" not in table["SCT:82038008"].cids
    assert table["SCT:60184004"].cids == ("4040", "6210")
    for code in ("SCT:32713005", "SCT:9040008", "SCT:485005", "SCT:32622004"):
        assert "6210" in table[code].cids

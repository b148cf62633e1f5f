"""Name search: names that start with the text first (in name order), then names containing it."""

from __future__ import annotations

from hms_desktop.services import patients
from hms_desktop.services.clinic import Clinic
from tests import factories


def test_prefix_matches_come_first_then_containing_names(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    for name in ("Omar Little", "Mark Adams", "Zed Marsh", "Maria Lopez", "Anna Smith", "Amara Ng"):
        factories.patient(clinic, desk, full_name=name)

    found = [record.full_name for record in patients.search_patients(clinic, desk, "mar")]

    assert found == ["Maria Lopez", "Mark Adams", "Amara Ng", "Omar Little", "Zed Marsh"]


def test_limit_is_kept_and_prefix_matches_win_the_places(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    for name in ("Omar Little", "Mark Adams", "Maria Lopez", "Amara Ng"):
        factories.patient(clinic, desk, full_name=name)

    found = [record.full_name for record in patients.search_patients(clinic, desk, "mar", limit=3)]

    assert found[:2] == ["Maria Lopez", "Mark Adams"]
    assert len(found) == 3 and found[2] in ("Omar Little", "Amara Ng")


def test_wildcards_in_the_text_are_matched_literally(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    factories.patient(clinic, desk, full_name="Ann Percent")

    assert patients.search_patients(clinic, desk, "a%t") == []
    assert patients.search_patients(clinic, desk, "n_p") == []
    assert [r.full_name for r in patients.search_patients(clinic, desk, "n p")] == ["Ann Percent"]

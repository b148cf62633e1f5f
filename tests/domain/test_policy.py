"""The access policy's rules, as the clinic wants them (issue 8), checked without a
database: the permission matrix then checks every API answers by these rules."""

from __future__ import annotations

import pytest

from hms_desktop.domain import policy
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import NotAuthenticated, PermissionDenied
from hms_desktop.domain.models import ANONYMOUS, Actor, ChangeEvent
from hms_desktop.domain.policy import Action, Kind, Owner, Scope

ALMA = Actor(10, "alma", Role.PATIENT, patient_id=1)
BRUNO = Actor(11, "bruno", Role.PATIENT, patient_id=2)
DORA = Actor(20, "dora", Role.DOCTOR, doctor_id=5)
DMITRI = Actor(21, "dmitri", Role.DOCTOR, doctor_id=6)
RITA = Actor(30, "rita", Role.RECEPTIONIST)
ADAM = Actor(40, "adam", Role.ADMIN)
EVERYONE = (ANONYMOUS, ALMA, DORA, RITA, ADAM)

ALMAS_RECORD = Owner(user_id=10, patient_id=1, doctor_ids=frozenset({5}))
ALMAS_APPOINTMENT = Owner(patient_id=1, doctor_id=5)


def test_every_rule_names_every_role() -> None:
    for kind, actions in policy.RULES.items():
        for action, rule in actions.items():
            assert set(rule) == set(Role), (kind, action)


def test_an_unwritten_rule_refuses_everyone() -> None:
    for actor in EVERYONE:
        assert policy.scope(actor, Kind.AUDIT, Action.DELETE) is Scope.NONE


@pytest.mark.parametrize("kind", [Kind.DOCTOR, Kind.SLOT, Kind.CATALOGUE, Kind.REVIEW])
def test_the_public_catalogue_is_open_to_all(kind: Kind) -> None:
    assert all(policy.allows(actor, kind, Action.READ) for actor in EVERYONE)


def test_patients_see_only_their_own() -> None:
    for kind, owner in ((Kind.PATIENT, ALMAS_RECORD), (Kind.APPOINTMENT, ALMAS_APPOINTMENT)):
        assert policy.allows(ALMA, kind, Action.READ, owner)
        assert not policy.allows(BRUNO, kind, Action.READ, owner)
        assert policy.scope(BRUNO, kind, Action.READ) is Scope.OWN
    assert not policy.allows(ALMA, Kind.CALENDAR, Action.READ)
    assert not policy.allows(ALMA, Kind.DESK, Action.USE)
    assert not policy.allows(ALMA, Kind.REQUEST, Action.READ)  # the desk's queue


def test_a_hold_is_its_holders() -> None:
    held_by_rita = Owner(user_id=RITA.user_id)
    assert policy.allows(RITA, Kind.HOLD, Action.RELEASE, held_by_rita)
    assert policy.allows(RITA, Kind.HOLD, Action.REVEAL, held_by_rita)
    for other in (ADAM, ALMA, DORA):
        assert not policy.allows(other, Kind.HOLD, Action.RELEASE, held_by_rita)
        assert not policy.allows(other, Kind.HOLD, Action.REVEAL, held_by_rita)
    # Taking over another desk's hold is the desk's explicit act.
    assert policy.allows(ADAM, Kind.HOLD, Action.TAKE_OVER)
    assert not policy.allows(ALMA, Kind.HOLD, Action.TAKE_OVER)
    assert not policy.allows(DORA, Kind.HOLD, Action.TAKE_OVER)


def test_doctors_see_their_own_schedule_and_change_only_statuses() -> None:
    assert policy.allows(DORA, Kind.PATIENT, Action.READ, ALMAS_RECORD)
    assert not policy.allows(DMITRI, Kind.PATIENT, Action.READ, ALMAS_RECORD)
    assert not policy.allows(DORA, Kind.PATIENT, Action.UPDATE, ALMAS_RECORD)
    assert policy.allows(DORA, Kind.APPOINTMENT, Action.SET_STATUS, ALMAS_APPOINTMENT)
    assert not policy.allows(DMITRI, Kind.APPOINTMENT, Action.SET_STATUS, ALMAS_APPOINTMENT)
    for action in (Action.MOVE, Action.CANCEL, Action.CREATE):
        assert not policy.allows(DORA, Kind.APPOINTMENT, action, ALMAS_APPOINTMENT)
    assert policy.allows(DORA, Kind.DOCTOR, Action.UPDATE, Owner(doctor_id=5))
    assert not policy.allows(DORA, Kind.DOCTOR, Action.UPDATE, Owner(doctor_id=6))
    assert policy.allows(DORA, Kind.CALENDAR, Action.READ, Owner(doctor_id=5))
    assert not policy.allows(DORA, Kind.CALENDAR, Action.READ, Owner(doctor_id=6))


def test_receptionists_run_the_desk_but_not_the_clinic() -> None:
    for kind, action in (
        (Kind.PATIENT, Action.UPDATE),
        (Kind.APPOINTMENT, Action.CREATE),
        (Kind.APPOINTMENT, Action.MOVE),
        (Kind.REQUEST, Action.ASSIGN),
        (Kind.CALENDAR, Action.READ),
    ):
        assert policy.allows(RITA, kind, action, ALMAS_APPOINTMENT), (kind, action)
    admins_account = Owner(user_id=ADAM.user_id)
    for kind, action, owner in (
        (Kind.ACCOUNT, Action.UPDATE, admins_account),
        (Kind.ACCOUNT, Action.READ, admins_account),
        (Kind.STAFF, Action.CREATE, None),
        (Kind.CATALOGUE, Action.CREATE, None),
        (Kind.DOCTOR, Action.UPDATE, Owner(doctor_id=5)),
        (Kind.AUDIT, Action.READ, None),
    ):
        assert not policy.allows(RITA, kind, action, owner), (kind, action)


def test_admins_may_do_everything_written_down() -> None:
    # Reviews are written by patients; a hold is released (and its token seen) by its
    # holder: an admin takes another desk's over, on the record.
    exceptions = {
        (Kind.REVIEW, Action.CREATE): Scope.NONE,
        (Kind.HOLD, Action.RELEASE): Scope.OWN,
        (Kind.HOLD, Action.REVEAL): Scope.OWN,
        # One's own password; an admin resets another's (Kind.STAFF), never sets it.
        (Kind.PASSWORD, Action.UPDATE): Scope.OWN,
    }
    for kind, actions in policy.RULES.items():
        for action in actions:
            expected = exceptions.get((kind, action), Scope.ALL)
            assert policy.scope(ADAM, kind, action) is expected, (kind, action)


def test_refusals_ask_the_public_to_log_in_and_tell_others_no() -> None:
    with pytest.raises(NotAuthenticated):
        policy.require(ANONYMOUS, Kind.PATIENT, Action.READ)
    with pytest.raises(PermissionDenied):
        policy.require(BRUNO, Kind.PATIENT, Action.READ, ALMAS_RECORD)
    assert policy.require(ALMA, Kind.PATIENT, Action.READ, ALMAS_RECORD) is Scope.OWN


def test_each_listener_hears_only_what_it_may_see() -> None:
    event = ChangeEvent(
        "hold", slot_id=3, doctor_id=5, patient_id=1, origin="x", extra={"holder": "alma"}
    )
    assert policy.visible_event(RITA, event) == event
    seen_by_dora = policy.visible_event(DORA, event)
    assert seen_by_dora is not None and seen_by_dora.extra == {} and seen_by_dora.origin == ""
    assert seen_by_dora.patient_id is None  # whom a slot is held for is the desk's to know
    assert policy.visible_event(DMITRI, event) is None
    assert policy.visible_event(BRUNO, event) is None
    assert policy.visible_event(ALMA, event) is not None
    assert policy.visible_event(ANONYMOUS, event) is None


@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [("Alma", "Zephyrine", "Alma Z."), ("Alma", "", "Alma"), (" Ann ", " lee", "Ann l.")],
)
def test_the_public_sees_a_reviewer_by_first_name_and_initial(
    first: str, last: str, shown: str
) -> None:
    assert policy.public_name(first, last) == shown


def test_a_temporary_password_allows_nothing_but_changing_it() -> None:
    from hms_desktop.domain.errors import PasswordChangeRequired

    for role in (Role.ADMIN, Role.RECEPTIONIST, Role.DOCTOR, Role.PATIENT):
        actor = Actor(41, "temp", role, must_change_password=True)
        allowed = {
            (kind, action)
            for kind, actions in policy.RULES.items()
            for action in actions
            if policy.allows(actor, kind, action, Owner(user_id=41))
        }
        expected = {
            entry
            for entry in policy.WHILE_PASSWORD_RESET
            if policy.allows(Actor(41, "temp", role), *entry, Owner(user_id=41))
        }
        assert allowed == expected and (Kind.PASSWORD, Action.UPDATE) in allowed, role
        with pytest.raises(PasswordChangeRequired):
            policy.require(actor, Kind.PATIENT, Action.READ)

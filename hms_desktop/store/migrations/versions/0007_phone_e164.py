"""patients' phone numbers in E.164 ("07700 900081" and "+44 7700 900081" are one number)

Revision ID: 0007_phone_e164
Revises: 0006_live_events

Numbers were stored as typed, less spaces and punctuation ("07700900081", "+447700900081"),
so uniqueness and the duplicate warning missed one number typed two ways. Each stored number
becomes E.164, a number without a country code taken to be in `phone_region` (the
`default_phone_region` setting, passed by `hms-desktop db upgrade`). A number that does not
parse, or whose E.164 form another patient has (or would get), is left as it is and named
in a WARNING line, for the desk to look at.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import context, op

from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.phones import DEFAULT_REGION, to_e164

revision = "0007_phone_e164"
down_revision = "0006_live_events"
branch_labels = None
depends_on = None

log = logging.getLogger("hms_desktop.store.migrations.phone_e164")

_patients = sa.table("patients", sa.column("id", sa.Integer), sa.column("phone", sa.String(20)))


def _e164(stored: str, region: str) -> str | None:
    try:
        return to_e164(stored, region=region)
    except ValidationError:
        return None


def plan(stored: dict[int, str], region: str) -> tuple[dict[int, str], list[str]]:
    """The new number of each patient whose number changes, and one line per number left
    as it was (it does not parse, or its E.164 form is another patient's)."""
    problems: list[str] = []
    final: dict[int, str] = {}
    for patient_id, phone in sorted(stored.items()):
        clean = _e164(phone, region)
        if clean is None:
            problems.append(f"patient {patient_id}: phone {phone!r} is not a number; left as is")
        final[patient_id] = clean or phone
    while True:
        holders: dict[str, list[int]] = {}
        for patient_id, phone in final.items():
            holders.setdefault(phone, []).append(patient_id)
        clashing = [
            patient_id
            for ids in holders.values()
            if len(ids) > 1
            for patient_id in ids
            if final[patient_id] != stored[patient_id]
        ]
        if not clashing:
            break
        for patient_id in clashing:
            others = [i for i in holders[final[patient_id]] if i != patient_id]
            problems.append(
                f"patient {patient_id}: phone {stored[patient_id]!r} is {final[patient_id]}, "
                f"as for patient(s) {', '.join(map(str, others))}; left as is"
            )
            final[patient_id] = stored[patient_id]
    changes = {i: phone for i, phone in final.items() if phone != stored[i]}
    return changes, problems


def upgrade() -> None:
    region = str(context.config.attributes.get("phone_region") or DEFAULT_REGION)
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_patients.c.id, _patients.c.phone).where(_patients.c.phone.is_not(None))
    )
    stored = {row.id: row.phone for row in rows if row.phone}
    changes, problems = plan(stored, region)
    for line in problems:
        log.warning("phone numbers to E.164: %s", line)
    if not changes:
        return
    update = (
        _patients.update()
        .where(_patients.c.id == sa.bindparam("patient_id"))
        .values(phone=sa.bindparam("new_phone"))
    )
    # Through a placeholder first: one patient's new number may be another's old one.
    bind.execute(update, [{"patient_id": i, "new_phone": f"~moving {i}"} for i in changes])
    bind.execute(update, [{"patient_id": i, "new_phone": phone} for i, phone in changes.items()])
    log.info(
        "phone numbers to E.164 (region %s): %d changed, %d left as they were",
        region,
        len(changes),
        len(problems),
    )


def downgrade() -> None:
    # E.164 is what the earlier code stored for numbers typed with "+"; nothing to undo.
    pass

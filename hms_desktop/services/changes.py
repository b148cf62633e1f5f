"""Following the clinic's live changes, as far as the listener may see them."""

from __future__ import annotations

from collections.abc import Callable

from hms_desktop.domain import policy
from hms_desktop.domain.models import Actor, ChangeEvent
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.events import Subscription


def follow(clinic: Clinic, actor: Actor, listener: Callable[[ChangeEvent], None]) -> Subscription:
    """Call `listener` (from another thread) for each change `actor` may hear of: the desk
    hears of every change, a doctor of their own schedule's, a patient of their own."""
    policy.require(actor, Kind.EVENT, Action.READ)

    def deliver(event: ChangeEvent) -> None:
        visible = policy.visible_event(actor, event)
        if visible is not None:
            listener(visible)

    return clinic.events.subscribe(deliver)

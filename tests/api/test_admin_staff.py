"""Staff administration over real HTTP: a deactivated account is refused by every log-in and
its tokens by every API; a reset password allows nothing but its change (a clear error
elsewhere, on all three APIs); the audit log pages and filters through the desk API."""

from __future__ import annotations

import httpx

from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import accounts
from tests import factories
from tests.api.conftest import LiveServer

PASSWORD = "staff-pass-1"


def _doctor_with_password(api: LiveServer) -> tuple[str, int]:
    user = accounts.create_user(
        api.clinic, SYSTEM, username=factories.unique("doc"), role=Role.DOCTOR, password=PASSWORD
    )
    return user.username, user.id


def _logins(client: httpx.Client, username: str, password: str) -> dict[str, httpx.Response]:
    body = {"username": username, "password": password}
    return {
        "desk": client.post("/desk/v1/session", json=body),
        "hospital": client.post("/api/user/login/", json=body),
        "booking": client.post("/sessions", json=body),
    }


def test_a_deactivated_account_cannot_log_in_anywhere_and_its_tokens_stop(
    api: LiveServer,
) -> None:
    username, user_id = _doctor_with_password(api)
    admin = api.token_for(api.staff(Role.ADMIN))
    with api.client() as anonymous:
        answers = _logins(anonymous, username, PASSWORD)
        assert {name: a.status_code for name, a in answers.items()} == {
            "desk": 200,
            "hospital": 200,
            "booking": 201,
        }
        desk = answers["desk"].json()
        hospital = answers["hospital"].json()
        cookie = answers["booking"].cookies
    with api.client(admin) as client:
        off = client.put(f"/desk/v1/staff/{user_id}/active", json={"active": False})
        assert off.status_code == 200 and off.json()["is_active"] is False
    with api.client() as anonymous:
        for name, answer in _logins(anonymous, username, PASSWORD).items():
            assert answer.status_code == 401, name
            assert "inactive" in answer.text, name
    with api.client(desk["access"]) as client:
        assert client.get("/desk/v1/session").status_code == 401
    with api.client(hospital["access"]) as client:
        assert client.get("/api/user/profiles/me/").status_code == 401
    with api.client() as client:
        client.cookies.update(cookie)
        assert client.get("/appointments").status_code == 401
        assert client.post("/desk/v1/session/refresh", json=desk).status_code == 401
        refreshed = client.post("/api/user/token/refresh/", json={"refresh": hospital["refresh"]})
        assert refreshed.status_code == 401


def test_a_reset_password_allows_only_its_change_on_every_api(api: LiveServer) -> None:
    username, user_id = _doctor_with_password(api)
    with api.client(api.token_for(api.staff(Role.ADMIN))) as admin:
        reset = admin.post(f"/desk/v1/staff/{user_id}/password-reset")
        assert reset.status_code == 200
        temporary = reset.json()["password"]
        assert reset.json()["member"]["must_change_password"] is True
        audit = admin.get("/desk/v1/audit", params={"entity_id": str(user_id)}).json()
        assert [row["action"] for row in audit["rows"]] == ["reset_password", "create"]
        assert temporary not in str(audit)
    with api.client() as anonymous:
        assert _logins(anonymous, username, PASSWORD)["desk"].status_code == 401
        answers = _logins(anonymous, username, temporary)
    session = answers["desk"].json()
    assert session["user"]["must_change_password"] is True
    refused = "Your password is a temporary one from an administrator"
    with api.client(session["access"]) as desk:
        assert desk.get("/desk/v1/session").status_code == 200
        blocked = desk.get("/desk/v1/patients", params={"q": "a"})
        assert blocked.status_code == 403 and refused in blocked.json()["error"]
        assert blocked.json()["type"] == "PasswordChangeRequired"
    with api.client(answers["hospital"].json()["access"]) as hospital:
        blocked = hospital.get("/appointments/")
        assert blocked.status_code == 403 and refused in blocked.text
    with api.client() as booking:
        booking.cookies.update(answers["booking"].cookies)
        blocked = booking.get("/appointments")
        assert blocked.status_code == 403 and refused in blocked.text
    with api.client(session["access"]) as desk:
        same = desk.put(
            "/desk/v1/session/password",
            json={"current_password": temporary, "new_password": temporary},
        )
        assert same.status_code == 400 and same.json()["field"] == "new_password"
        short = desk.put(
            "/desk/v1/session/password",
            json={"current_password": temporary, "new_password": "short"},
        )
        assert short.status_code == 400 and short.json()["field"] == "new_password"
        changed = desk.put(
            "/desk/v1/session/password",
            json={"current_password": temporary, "new_password": "my-own-pass-9"},
        )
        assert changed.status_code == 200
        assert changed.json()["must_change_password"] is False
        # The same token now opens the desk.
        assert desk.get("/desk/v1/patients", params={"q": "a"}).status_code == 200
    with api.client() as anonymous:
        assert _logins(anonymous, username, "my-own-pass-9")["desk"].status_code == 200


def test_staff_routes_are_for_admins_and_validate_their_input(api: LiveServer) -> None:
    desk_token = api.token_for(api.staff())
    with api.client(desk_token) as receptionist:
        assert receptionist.get("/desk/v1/staff").status_code == 403
        assert receptionist.get("/desk/v1/audit").status_code == 403
        assert receptionist.get("/desk/v1/clinic-settings").status_code == 200
    with api.client(api.token_for(api.staff(Role.ADMIN))) as admin:
        for body, field in (
            ({"username": "ok1", "role": "receptionist", "first_name": ""}, "first_name"),
            ({"username": "ok2", "role": "patient", "first_name": "Pat"}, "role"),
            ({"username": "bad name", "role": "admin", "first_name": "X"}, "username"),
        ):
            answer = admin.post("/desk/v1/staff", json=body)
            assert answer.status_code == 400 and answer.json()["field"] == field, answer.text
        made = admin.post(
            "/desk/v1/staff", json={"username": "nia", "role": "doctor", "first_name": "Nia"}
        )
        assert made.status_code == 201 and len(made.json()["password"]) >= 12
        taken = admin.post(
            "/desk/v1/staff", json={"username": "NIA", "role": "admin", "first_name": "Dup"}
        )
        assert taken.status_code == 400 and taken.json()["field"] == "username"
        listed = admin.get("/desk/v1/staff").json()
        assert "nia" in [member["username"] for member in listed]
        assert all(member["role"] != "patient" for member in listed)
        assert admin.get("/desk/v1/audit", params={"limit": 100_000}).status_code == 400
        assert admin.get("/desk/v1/audit", params={"since": "yesterday"}).status_code == 400
        settings = admin.put(
            "/desk/v1/clinic-settings", json={"name": "Lake Clinic", "booking_horizon_days": 0}
        )
        assert settings.status_code == 400 and settings.json()["field"] == "booking_horizon_days"


def test_the_audit_log_pages_through_the_desk_api(api: LiveServer) -> None:
    admin_user = api.staff(Role.ADMIN)
    with api.client(api.token_for(admin_user)) as admin:
        ids = [
            admin.post(
                "/desk/v1/staff",
                json={"username": f"pager{n}", "role": "receptionist", "first_name": "P"},
            ).json()["member"]["id"]
            for n in range(7)
        ]
        seen: list[int] = []
        params: dict[str, object] = {"action": "create", "actor": admin_user.username, "limit": 3}
        while True:
            page = admin.get("/desk/v1/audit", params=params).json()
            seen += [int(row["entity_id"]) for row in page["rows"]]
            if page["next_before"] is None:
                break
            params["before_id"] = page["next_before"]
        assert seen == ids[::-1]

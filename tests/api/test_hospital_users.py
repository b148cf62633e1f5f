"""The hospital API's accounts over real HTTP: register, JWT, refresh, blacklist, profiles."""

from __future__ import annotations

from hms_desktop.domain.enums import Role
from tests import factories
from tests.api.conftest import LiveServer
from tests.factories import png_bytes


def _register(client, username: str, password: str = "s3cret-pass") -> dict:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/user/register/",
        json={
            "username": username,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": f"{username}@example.com",
            "password": password,
            "confirm_password": password,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_register_login_refresh_logout(api: LiveServer) -> None:
    with api.client() as client:
        body = _register(client, "ada")
        assert body["message"] and set(body["tokens"]) == {"refresh", "access"}
        user = body["user"]
        assert user["username"] == "ada" and user["email"] == "ada@example.com"
        assert user["is_staff"] is False and user["is_active"] is True
        assert user["date_joined"].endswith("Z")

        mismatch = client.post(
            "/api/user/register/",
            json={
                "username": "bob",
                "password": "s3cret-pass",
                "confirm_password": "other-pass",
            },
        )
        assert mismatch.status_code == 400
        assert mismatch.json()["password"] == ["Password fields didn't match."]
        taken = client.post(
            "/api/user/register/",
            json={
                "username": "ADA",
                "first_name": "Ada",
                "password": "s3cret-pass",
                "confirm_password": "s3cret-pass",
            },
        )
        assert taken.status_code == 400 and "username" in taken.json()
        nameless = client.post(
            "/api/user/register/",
            json={
                "username": "nameless",
                "password": "s3cret-pass",
                "confirm_password": "s3cret-pass",
            },
        )
        assert nameless.status_code == 400
        assert nameless.json()["first_name"] == ["First name is required."]

        wrong = client.post("/api/user/login/", json={"username": "ada", "password": "nope-nope"})
        assert wrong.status_code == 401 and wrong.json() == {
            "detail": "Invalid username or password."
        }
        tokens = client.post(
            "/api/user/login/", json={"username": "ada", "password": "s3cret-pass"}
        ).json()
        me = client.get(
            "/api/user/profiles/me/", headers={"Authorization": f"Bearer {tokens['access']}"}
        )
        assert me.status_code == 200 and me.json()["user"]["username"] == "ada"

        refreshed = client.post("/api/user/token/refresh/", json={"refresh": tokens["refresh"]})
        assert refreshed.status_code == 200 and set(refreshed.json()) == {"access"}
        # An access token is not a refresh token.
        assert (
            client.post("/api/user/token/refresh/", json={"refresh": tokens["access"]}).status_code
            == 401
        )

        out = client.post("/api/user/logout/", json={"refresh": tokens["refresh"]})
        assert out.status_code == 200 and "message" in out.json()
        again = client.post("/api/user/token/refresh/", json={"refresh": tokens["refresh"]})
        assert again.status_code == 401
        assert again.json() == {"detail": "Token is invalid or expired"}
        assert client.post("/api/user/logout/", json={"refresh": "garbage"}).status_code == 401
        assert client.post("/api/user/logout/", json={}).status_code == 400

    # The account made here logs in through the booking API too (one account base).
    with api.client() as booking:
        session = booking.post("/sessions", json={"username": "ada", "password": "s3cret-pass"})
        assert session.status_code == 201


def test_profiles_permissions_updates_and_uploads(api: LiveServer) -> None:
    with api.client() as client:
        ada = _register(client, "ada")
        _register(client, "bob")
    admin_user = api.staff(Role.ADMIN)
    with (
        api.client(ada["tokens"]["access"]) as ada_client,
        api.client(api.token_for(admin_user)) as admin,
    ):
        own = ada_client.get("/api/user/profiles/").json()
        assert own["count"] == 1 and own["results"][0]["user"]["username"] == "ada"
        profile_id = own["results"][0]["id"]

        everyone = admin.get("/api/user/profiles/").json()
        assert everyone["count"] == 3
        found = admin.get("/api/user/profiles/", params={"search": "bob"}).json()
        assert [row["user"]["username"] for row in found["results"]] == ["bob"]
        bob_id = found["results"][0]["id"]
        assert ada_client.get(f"/api/user/profiles/{bob_id}/").status_code == 404
        assert (
            ada_client.patch(f"/api/user/profiles/{bob_id}/", data={"bio": "x"}).status_code == 404
        )

        patched = ada_client.patch(
            f"/api/user/profiles/{profile_id}/",
            data={"bio": "Mathematician", "date_of_birth": "1990-12-10"},
            files={"profile_picture": ("me.png", png_bytes(), "image/png")},
        )
        assert patched.status_code == 200, patched.text
        body = patched.json()
        assert body["bio"] == "Mathematician" and body["date_of_birth"] == "1990-12-10"
        picture = body["profile_picture"]
        assert picture.startswith(api.url + "/media/")
        image = ada_client.get(picture)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content == png_bytes()

        not_image = ada_client.patch(
            f"/api/user/profiles/{profile_id}/",
            files={"profile_picture": ("me.png", b"not an image at all", "image/png")},
        )
        assert not_image.status_code == 400
        assert not_image.json()["detail"] == "Upload a valid PNG, JPEG or WebP image."
        oversized = ada_client.patch(
            f"/api/user/profiles/{profile_id}/",
            files={"profile_picture": ("big.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 10))},
        )
        assert oversized.status_code == 400 and "too large" in oversized.json()["detail"]

        renamed = ada_client.put(
            f"/api/user/profiles/{profile_id}/",
            data={"username": "ada2", "first_name": "Ada", "email": "ada2@example.com"},
        )
        assert renamed.status_code == 200 and renamed.json()["user"]["username"] == "ada2"
        clash = ada_client.put(f"/api/user/profiles/{profile_id}/", data={"username": "bob"})
        assert clash.status_code == 400

        assert ada_client.post("/api/user/profiles/", data={"username": "new1"}).status_code == 403
        created = admin.post(
            "/api/user/profiles/", data={"username": "walkin", "first_name": "Walk"}
        )
        assert created.status_code == 201 and created.json()["user"]["first_name"] == "Walk"

        assert ada_client.delete(f"/api/user/profiles/{bob_id}/").status_code == 404
        assert admin.delete(f"/api/user/profiles/{bob_id}/").status_code == 204
        assert admin.get(f"/api/user/profiles/{bob_id}/").status_code == 404
        assert admin.get("/api/user/profiles/999999/").json() == {"detail": "Not found."}

    with api.client() as anonymous:
        response = anonymous.get("/api/user/profiles/")
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_pagination_edges(api: LiveServer) -> None:
    admin_user = api.staff(Role.ADMIN)
    for _ in range(4):
        factories.patient(api.clinic)
    with api.client(api.token_for(admin_user)) as admin:
        first = admin.get("/api/user/profiles/", params={"limits": 2})
        body = first.json()
        assert body["count"] == 5 and len(body["results"]) == 2 and body["previous"] is None
        assert body["next"].startswith(api.url) and "page=2" in body["next"]
        second = admin.get(body["next"]).json()
        assert second["previous"].startswith(api.url) and "page=1" in second["previous"]
        last = admin.get("/api/user/profiles/", params={"limits": 2, "page": 3}).json()
        assert len(last["results"]) == 1 and last["next"] is None
        ids = [row["id"] for row in body["results"] + second["results"] + last["results"]]
        assert len(set(ids)) == 5

        beyond = admin.get("/api/user/profiles/", params={"limits": 2, "page": 4})
        assert beyond.status_code == 404 and beyond.json() == {"detail": "Invalid page."}
        capped = admin.get("/api/user/profiles/", params={"limits": 100000}).json()
        assert len(capped["results"]) == 5
        for params in (
            {"page": 0},
            {"page": -3},
            {"page": "abc"},
            {"page": 10**30},
            {"limits": 0},
            {"limits": "many"},
        ):
            response = admin.get("/api/user/profiles/", params=params)
            assert response.status_code == 400, params
            assert "detail" in response.json()
        huge = admin.get("/api/user/profiles/", params={"page": 999999, "limits": 1000})
        assert huge.status_code == 404

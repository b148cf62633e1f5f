"""The hospital API's accounts (seed 002): register, JWT log-in/refresh/logout, profiles."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile, status
from pydantic import BaseModel

from hms_desktop.domain.errors import AuthenticationFailed, UsernameTaken, ValidationError
from hms_desktop.domain.models import UserInfo
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import accounts, profiles
from hms_desktop.services.profiles import ProfileChanges, ProfileRecord

from .deps import ClinicDep, CurrentUser, DbInt
from .media import image_url, read_upload
from .pagination import PageDep, Paginated, paginated
from .ratelimit import RateLimitsDep, client_address, default_rate_limit

router = APIRouter(
    prefix="/api/user", tags=["hospital API: users"], dependencies=[Depends(default_rate_limit)]
)


class Detail(BaseModel):
    detail: str


ERRORS = {code: {"model": Detail} for code in (400, 401, 403, 404, 409, 422, 429, 503)}


def drf_datetime(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


class UserOut(BaseModel):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_staff: bool
    is_active: bool
    date_joined: str

    @classmethod
    def of(cls, user: UserInfo) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            is_staff=user.is_staff,
            is_active=user.is_active,
            date_joined=drf_datetime(user.date_joined),
        )


class Registration(BaseModel):
    username: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    password: str
    confirm_password: str


class Tokens(BaseModel):
    refresh: str
    access: str


class Registered(BaseModel):
    message: str
    tokens: Tokens
    user: UserOut


class Credentials(BaseModel):
    username: str
    password: str


class RefreshBody(BaseModel):
    refresh: str


class AccessOut(BaseModel):
    access: str


class MessageOut(BaseModel):
    message: str


class ProfileOut(BaseModel):
    id: int
    user: UserOut
    bio: str
    address: str
    date_of_birth: date | None
    profile_picture: str | None
    created_at: str
    updated_at: str


def _profile(request: Request, record: ProfileRecord) -> ProfileOut:
    return ProfileOut(
        id=record.id,
        user=UserOut.of(record.user),
        bio=record.bio,
        address=record.address,
        date_of_birth=record.date_of_birth,
        profile_picture=image_url(request, record.picture_id),
        created_at=drf_datetime(record.created_at),
        updated_at=drf_datetime(record.updated_at),
    )


# --- authentication ---------------------------------------------------------------------------


@router.post(
    "/register/",
    status_code=status.HTTP_201_CREATED,
    response_model=Registered,
    responses=ERRORS,
    summary="Register: user, profile and patient record; returns tokens",
)
def register(
    body: Registration, request: Request, clinic: ClinicDep, limits: RateLimitsDep
) -> Registered:
    address = client_address(request)
    limits.check_login(address, body.username)
    if body.password != body.confirm_password:
        raise ValidationError("Password fields didn't match.", field="password")
    try:
        user = accounts.register_patient_account(
            clinic,
            username=body.username,
            password=body.password,
            first_name=body.first_name,
            last_name=body.last_name,
            email=body.email,
        )
    except UsernameTaken as error:
        limits.record_login_failure(address, body.username)
        raise UsernameTaken(
            "A user with that username already exists.", field="username"
        ) from error
    pair = accounts.issue_tokens(clinic, user)
    return Registered(
        message="User registered successfully.",
        tokens=Tokens(refresh=pair.refresh, access=pair.access),
        user=UserOut.of(user),
    )


@router.post("/login/", response_model=Tokens, responses=ERRORS, summary="Obtain JWT tokens")
def login(body: Credentials, request: Request, clinic: ClinicDep, limits: RateLimitsDep) -> Tokens:
    address = client_address(request)
    limits.check_login(address, body.username)
    try:
        user = accounts.authenticate(clinic, body.username, body.password)
    except AuthenticationFailed:
        limits.record_login_failure(address, body.username)
        raise
    pair = accounts.issue_tokens(clinic, user)
    return Tokens(refresh=pair.refresh, access=pair.access)


@router.post(
    "/logout/",
    response_model=MessageOut,
    responses=ERRORS,
    summary="Blacklist the refresh token for good",
)
def logout(body: RefreshBody, clinic: ClinicDep) -> MessageOut:
    accounts.revoke_token(clinic, body.refresh, ("refresh",))
    return MessageOut(message="Successfully logged out.")


@router.post(
    "/token/refresh/",
    response_model=AccessOut,
    responses=ERRORS,
    summary="A new access token for a valid refresh token",
)
def refresh(body: RefreshBody, clinic: ClinicDep) -> AccessOut:
    return AccessOut(access=accounts.refresh_access(clinic, body.refresh))


# --- profiles ---------------------------------------------------------------------------------


def _changes(
    clinic: ClinicDep,
    username: str | None,
    email: str | None,
    first_name: str | None,
    last_name: str | None,
    bio: str | None,
    address: str | None,
    date_of_birth: date | None,
    profile_picture: UploadFile | None,
) -> ProfileChanges:
    return ProfileChanges(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        bio=bio,
        address=address,
        date_of_birth=date_of_birth,
        picture=read_upload(profile_picture, clinic.settings.image_max_bytes),
    )


@router.get(
    "/profiles/",
    response_model=Paginated[ProfileOut],
    responses=ERRORS,
    summary="Profiles: staff see all, anyone else their own",
)
def list_profiles(
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    wanted: PageDep,
    search: str | None = None,
) -> Paginated[ProfileOut]:
    page = profiles.list_profiles(
        clinic, user, search=search, offset=wanted.offset, limit=wanted.limit
    )
    return paginated(request, wanted, page.total, [_profile(request, r) for r in page.items])


@router.post(
    "/profiles/",
    status_code=status.HTTP_201_CREATED,
    response_model=ProfileOut,
    responses=ERRORS,
    summary="Create an account's profile (staff)",
)
def create_profile(
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    username: Annotated[str, Form()],
    email: Annotated[str | None, Form()] = None,
    first_name: Annotated[str | None, Form()] = None,
    last_name: Annotated[str | None, Form()] = None,
    bio: Annotated[str | None, Form()] = None,
    address: Annotated[str | None, Form()] = None,
    date_of_birth: Annotated[date | None, Form()] = None,
    profile_picture: Annotated[UploadFile | None, File()] = None,
) -> ProfileOut:
    changes = _changes(
        clinic, username, email, first_name, last_name, bio, address, date_of_birth, profile_picture
    )
    return _profile(request, profiles.create_profile(clinic, user, changes))


@router.get(
    "/profiles/me/",
    response_model=ProfileOut,
    responses=ERRORS,
    summary="The logged-in user's profile",
)
def my_profile(request: Request, clinic: ClinicDep, user: CurrentUser) -> ProfileOut:
    return _profile(request, profiles.my_profile(clinic, user))


@router.get(
    "/profiles/{profile_id}/", response_model=ProfileOut, responses=ERRORS, summary="A profile"
)
def get_profile(
    profile_id: DbInt, request: Request, clinic: ClinicDep, user: CurrentUser
) -> ProfileOut:
    return _profile(request, profiles.get_profile(clinic, user, profile_id))


def _update_profile(
    profile_id: DbInt,
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    username: Annotated[str | None, Form()] = None,
    email: Annotated[str | None, Form()] = None,
    first_name: Annotated[str | None, Form()] = None,
    last_name: Annotated[str | None, Form()] = None,
    bio: Annotated[str | None, Form()] = None,
    address: Annotated[str | None, Form()] = None,
    date_of_birth: Annotated[date | None, Form()] = None,
    profile_picture: Annotated[UploadFile | None, File()] = None,
) -> ProfileOut:
    changes = _changes(
        clinic, username, email, first_name, last_name, bio, address, date_of_birth, profile_picture
    )
    return _profile(request, profiles.update_profile(clinic, user, profile_id, changes))


router.put(
    "/profiles/{profile_id}/",
    response_model=ProfileOut,
    responses=ERRORS,
    summary="Update a profile",
    operation_id="update_profile",
)(_update_profile)
router.patch(
    "/profiles/{profile_id}/",
    response_model=ProfileOut,
    responses=ERRORS,
    summary="Partially update a profile",
    operation_id="patch_profile",
)(_update_profile)


@router.delete(
    "/profiles/{profile_id}/",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS,
    summary="Delete a profile's details",
)
def delete_profile(profile_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    profiles.delete_profile(clinic, user, profile_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

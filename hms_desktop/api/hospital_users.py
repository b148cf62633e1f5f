"""The hospital API's accounts (seed 002): register, JWT log-in/refresh/logout, profiles."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from pydantic import BaseModel

from hms_desktop.domain.errors import UsernameTaken, ValidationError
from hms_desktop.domain.models import UserInfo
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import accounts, profiles
from hms_desktop.services.profiles import ProfileChanges, ProfileRecord

from .deps import ClinicDep, CurrentUser, DbInt
from .fields import Day, Email, LongText, Name, Password, Search, ShortText, Token
from .media import image_url, read_upload
from .openapi import PUBLIC, access
from .pagination import PageDep, Paginated, paginated
from .ratelimit import EVERY_REQUEST, client_address

router = APIRouter(prefix="/api/user", tags=["hospital API: users"], dependencies=EVERY_REQUEST)


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
    username: Name
    first_name: Name = ""
    last_name: Name = ""
    email: Email = ""
    password: Password
    confirm_password: Password


class Tokens(BaseModel):
    refresh: str
    access: str


class Registered(BaseModel):
    message: str
    tokens: Tokens
    user: UserOut


class Credentials(BaseModel):
    username: Name
    password: Password


class RefreshBody(BaseModel):
    refresh: Token


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
    summary="Register: user, profile and patient record; returns tokens",
    openapi_extra=access(Kind.ACCOUNT, Action.CREATE),
)
def register(
    body: Registration, request: Request, clinic: ClinicDep, user: CurrentUser
) -> Registered:
    if body.password != body.confirm_password:
        raise ValidationError("Password fields didn't match.", field="password")
    try:
        created = accounts.register_patient_account(
            clinic,
            user,
            client=client_address(request),
            username=body.username,
            password=body.password,
            first_name=body.first_name,
            last_name=body.last_name,
            email=body.email,
        )
    except UsernameTaken as error:
        raise UsernameTaken(
            "A user with that username already exists.", field="username"
        ) from error
    pair = accounts.issue_tokens(clinic, created)
    return Registered(
        message="User registered successfully.",
        tokens=Tokens(refresh=pair.refresh, access=pair.access),
        user=UserOut.of(created),
    )


@router.post(
    "/login/", response_model=Tokens, summary="Obtain JWT tokens", openapi_extra=access(PUBLIC)
)
def login(body: Credentials, request: Request, clinic: ClinicDep) -> Tokens:
    user = accounts.log_in(clinic, body.username, body.password, client=client_address(request))
    pair = accounts.issue_tokens(clinic, user)
    return Tokens(refresh=pair.refresh, access=pair.access)


@router.post(
    "/logout/",
    response_model=MessageOut,
    summary="Log out: the refresh token, and every access token it gave, stop working",
    openapi_extra=access(PUBLIC),
)
def logout(body: RefreshBody, clinic: ClinicDep) -> MessageOut:
    accounts.revoke_token(clinic, body.refresh, ("refresh",))
    return MessageOut(message="Successfully logged out.")


@router.post(
    "/token/refresh/",
    response_model=AccessOut,
    summary="A new access token for a valid refresh token",
    openapi_extra=access(PUBLIC),
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
    summary="Profiles: one's own, and the patients' one may see (admins: all)",
    openapi_extra=access(Kind.ACCOUNT, Action.READ),
)
def list_profiles(
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    wanted: PageDep,
    search: Search | None = None,
) -> Paginated[ProfileOut]:
    page = profiles.list_profiles(
        clinic, user, search=search, offset=wanted.offset, limit=wanted.limit
    )
    return paginated(request, wanted, page.total, [_profile(request, r) for r in page.items])


@router.post(
    "/profiles/",
    status_code=status.HTTP_201_CREATED,
    response_model=ProfileOut,
    summary="Create a patient's account and profile (the desk)",
    openapi_extra=access(Kind.PATIENT, Action.CREATE),
)
def create_profile(
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    username: Annotated[Name, Form()],
    email: Annotated[Email | None, Form()] = None,
    first_name: Annotated[Name | None, Form()] = None,
    last_name: Annotated[Name | None, Form()] = None,
    bio: Annotated[LongText | None, Form()] = None,
    address: Annotated[ShortText | None, Form()] = None,
    date_of_birth: Annotated[Day | None, Form()] = None,
    profile_picture: Annotated[UploadFile | None, File()] = None,
) -> ProfileOut:
    changes = _changes(
        clinic, username, email, first_name, last_name, bio, address, date_of_birth, profile_picture
    )
    return _profile(request, profiles.create_profile(clinic, user, changes))


@router.get(
    "/profiles/me/",
    response_model=ProfileOut,
    summary="The logged-in user's profile",
    openapi_extra=access(Kind.ACCOUNT, Action.READ),
)
def my_profile(request: Request, clinic: ClinicDep, user: CurrentUser) -> ProfileOut:
    return _profile(request, profiles.my_profile(clinic, user))


@router.get(
    "/profiles/{profile_id:int}/",
    response_model=ProfileOut,
    summary="A profile",
    openapi_extra=access(Kind.ACCOUNT, Action.READ),
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
    username: Annotated[Name | None, Form()] = None,
    email: Annotated[Email | None, Form()] = None,
    first_name: Annotated[Name | None, Form()] = None,
    last_name: Annotated[Name | None, Form()] = None,
    bio: Annotated[LongText | None, Form()] = None,
    address: Annotated[ShortText | None, Form()] = None,
    date_of_birth: Annotated[Day | None, Form()] = None,
    profile_picture: Annotated[UploadFile | None, File()] = None,
) -> ProfileOut:
    changes = _changes(
        clinic, username, email, first_name, last_name, bio, address, date_of_birth, profile_picture
    )
    return _profile(request, profiles.update_profile(clinic, user, profile_id, changes))


router.put(
    "/profiles/{profile_id:int}/",
    response_model=ProfileOut,
    summary="Update a profile",
    operation_id="update_profile",
    openapi_extra=access(Kind.ACCOUNT, Action.UPDATE),
)(_update_profile)
router.patch(
    "/profiles/{profile_id:int}/",
    response_model=ProfileOut,
    summary="Partially update a profile",
    operation_id="patch_profile",
    openapi_extra=access(Kind.ACCOUNT, Action.UPDATE),
)(_update_profile)


@router.delete(
    "/profiles/{profile_id:int}/",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a profile's details",
    openapi_extra=access(Kind.ACCOUNT, Action.DELETE),
)
def delete_profile(profile_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    profiles.delete_profile(clinic, user, profile_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

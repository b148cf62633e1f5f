"""The hospital API's reviews of doctors: `/reviews/` (ratings as star strings)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from hms_desktop.domain.models import (
    ReviewRecord,
)
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.domain.validation import clean_rating
from hms_desktop.services import reviews

from ..deps import ClinicDep, CurrentUser, DbInt
from ..fields import LongText, Search, ShortText
from ..openapi import access
from ..pagination import PageDep, Paginated, paginated
from .common import deleted, gone

router = APIRouter()


class ReviewOut(BaseModel):
    id: int
    reviewer: str
    doctor_name: str
    body: str
    created_on: date
    rating: str


class ReviewIn(BaseModel):
    doctor: DbInt
    body: LongText = ""
    rating: ShortText | DbInt


class ReviewPatch(BaseModel):
    doctor: DbInt | None = None
    body: LongText | None = None
    rating: ShortText | DbInt | None = None


def _review(record: ReviewRecord) -> ReviewOut:
    return ReviewOut(
        id=record.id,
        reviewer=record.reviewer,
        doctor_name=record.doctor_name,
        body=record.body,
        created_on=record.created_on,
        rating="⭐" * record.rating,
    )


@router.get(
    "/reviews/", response_model=Paginated[ReviewOut], openapi_extra=access(Kind.REVIEW, Action.READ)
)
def list_reviews(
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    wanted: PageDep,
    doctor: DbInt | None = None,
    reviwer: DbInt | None = None,
    rating: ShortText | None = None,
    search: Search | None = None,
) -> Paginated[ReviewOut]:
    page = reviews.list_reviews(
        clinic,
        user,
        doctor_id=doctor,
        reviewer_id=reviwer,
        rating=clean_rating(rating) if rating else None,
        search=search,
        offset=wanted.offset,
        limit=wanted.limit,
    )
    return paginated(request, wanted, page.total, [_review(r) for r in page.items])


@router.post(
    "/reviews/",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewOut,
    openapi_extra=access(Kind.REVIEW, Action.CREATE),
)
def create_review(body: ReviewIn, clinic: ClinicDep, user: CurrentUser) -> ReviewOut:
    return _review(reviews.write_review(clinic, user, body.doctor, body.body, body.rating))


@router.get(
    "/reviews/{review_id}/",
    response_model=ReviewOut,
    openapi_extra=access(Kind.REVIEW, Action.READ),
)
def get_review(review_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> ReviewOut:
    return _review(reviews.get_review(clinic, user, review_id))


@router.put(
    "/reviews/{review_id}/",
    response_model=ReviewOut,
    openapi_extra=access(Kind.REVIEW, Action.UPDATE),
)
def update_review(
    review_id: DbInt, body: ReviewIn, clinic: ClinicDep, user: CurrentUser
) -> ReviewOut:
    record = reviews.edit_review(
        clinic, user, review_id, doctor_id=body.doctor, body=body.body, rating=body.rating
    )
    return _review(record)


@router.patch(
    "/reviews/{review_id}/",
    response_model=ReviewOut,
    openapi_extra=access(Kind.REVIEW, Action.UPDATE),
)
def patch_review(
    review_id: DbInt, body: ReviewPatch, clinic: ClinicDep, user: CurrentUser
) -> ReviewOut:
    record = reviews.edit_review(
        clinic, user, review_id, doctor_id=body.doctor, body=body.body, rating=body.rating
    )
    return _review(record)


@router.delete("/reviews/{review_id}/", **deleted(Kind.REVIEW))
def delete_review(review_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    reviews.delete_review(clinic, user, review_id)
    return gone()

"""The hospital API's pages: `page` and `limits` in, `count`/`next`/`previous`/`results` out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel

from hms_desktop.domain.errors import NotFound

from .edge import public_url

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Far beyond any clinic's data, small enough that page * limits never overflows SQL.
MAX_PAGE = 1_000_000

Item = TypeVar("Item")


class Paginated(BaseModel, Generic[Item]):
    count: int
    next: str | None
    previous: str | None
    results: list[Item]


class InvalidPage(NotFound):
    message = "Invalid page."


@dataclass(frozen=True)
class PageRequest:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


async def page_request(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number")] = 1,
    limits: Annotated[
        int,
        Query(
            ge=1,
            le=2**31 - 1,  # larger is capped to MAX_LIMIT, as DRF does; absurd is a 400
            description=f"Items per page (at most {MAX_LIMIT})",
        ),
    ] = DEFAULT_LIMIT,
) -> PageRequest:
    return PageRequest(page=page, limit=min(limits, MAX_LIMIT))


PageDep = Annotated[PageRequest, Depends(page_request)]


def paginated(
    request: Request, wanted: PageRequest, total: int, results: Sequence[Item]
) -> Paginated[Item]:
    if wanted.page > 1 and wanted.offset >= total:
        raise InvalidPage()
    has_next = wanted.offset + len(results) < total

    def page_link(page: int) -> str:
        query = dict(request.query_params)
        query["page"] = str(page)
        return public_url(request, request.url.path, **query)

    return Paginated[Item](
        count=total,
        next=page_link(wanted.page + 1) if has_next else None,
        previous=page_link(wanted.page - 1) if wanted.page > 1 else None,
        results=list(results),
    )

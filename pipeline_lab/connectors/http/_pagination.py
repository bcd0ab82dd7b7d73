"""Walking through pages: page numbers, offsets, a cursor in the body, ``Link`` headers, relay.

A paginator turns the first request into the next one, given what the last response held,
and says when to stop. :func:`walk` drives any of them with the safety limits every read
shares: ``max_pages`` (more pages than that is an error, not a silent truncation), a
request repeated (a server that sends the same cursor or link again would loop forever) and
``limit`` (stop once that many records are in).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx

from pipeline_lab.connectors.http._client import Request
from pipeline_lab.connectors.http._options import (
    CursorPagination,
    LinkPagination,
    OffsetPagination,
    PagePagination,
)
from pipeline_lab.connectors.http._records import lookup
from pipeline_lab.errors import ConnectorError

Page = tuple[Any, httpx.Response, list[Any]]
"""A page: the decoded body, the response (headers) and the records found in it."""


class Paginator(ABC):
    """Asks for one page after another."""

    def first(self, request: Request) -> Request:
        return request

    @abstractmethod
    def next(self, request: Request, page: Page) -> Request | None:
        """The request for the page after ``page``, or ``None`` at the end."""


class Single(Paginator):
    """No pagination: one request."""

    def next(self, request: Request, page: Page) -> Request | None:
        return None


def _with_params(request: Request, **params: Any) -> Request:
    return replace(request, params={**request.params, **params})


class _Counted(Paginator):
    """Page and offset pagination: stop on an empty page, a short page, or the total."""

    size: int | None
    total_path: str | None

    def __init__(self) -> None:
        self.seen = 0

    def more(self, page: Page) -> bool:
        body, _, records = page
        self.seen += len(records)
        if not records:
            return False
        if self.total_path is not None:
            total = lookup(body, self.total_path, required=False)
            if total is not None:
                try:
                    return self.seen < int(total)
                except (TypeError, ValueError):
                    raise ConnectorError(
                        f"total_path {self.total_path!r} holds {total!r}, not a number",
                        hint="point total_path at the total record count, or drop it",
                    ) from None
        return self.size is None or len(records) >= self.size


class PageNumbers(_Counted):
    def __init__(self, options: PagePagination) -> None:
        super().__init__()
        self.options, self.size, self.total_path = options, options.size, options.total_path
        self.page = options.start

    def first(self, request: Request) -> Request:
        params: dict[str, Any] = {self.options.page_param: self.page}
        if self.size is not None and self.options.size_param:
            params[self.options.size_param] = self.size
        return _with_params(request, **params)

    def next(self, request: Request, page: Page) -> Request | None:
        if not self.more(page):
            return None
        self.page += 1
        return _with_params(request, **{self.options.page_param: self.page})


class Offsets(_Counted):
    def __init__(self, options: OffsetPagination) -> None:
        super().__init__()
        self.options, self.size, self.total_path = options, options.size, options.total_path
        self.offset = options.start

    def first(self, request: Request) -> Request:
        o = self.options
        return _with_params(request, **{o.offset_param: self.offset, o.limit_param: self.size})

    def next(self, request: Request, page: Page) -> Request | None:
        if not self.more(page):
            return None
        self.offset += len(page[2])
        return _with_params(request, **{self.options.offset_param: self.offset})


class Cursor(Paginator):
    """The body says where the next page starts (``meta.next_cursor``); absent or empty: done."""

    def __init__(self, options: CursorPagination) -> None:
        self.options = options

    def next(self, request: Request, page: Page) -> Request | None:
        cursor = lookup(page[0], self.options.cursor_path, required=False)
        if cursor in (None, "", False) or not page[2]:
            return None
        return _with_params(request, **{self.options.cursor_param: cursor})


class Links(Paginator):
    """The ``Link`` header's ``rel="next"`` URL (which carries its own query string)."""

    def next(self, request: Request, page: Page) -> Request | None:
        link = page[1].links.get("next", {}).get("url")
        if not link:
            return None
        return replace(request, url=str(page[1].url.join(link)), params={})


def paginator(
    options: PagePagination | OffsetPagination | CursorPagination | LinkPagination | None,
) -> Paginator:
    if isinstance(options, PagePagination):
        return PageNumbers(options)
    if isinstance(options, OffsetPagination):
        return Offsets(options)
    if isinstance(options, CursorPagination):
        return Cursor(options)
    if isinstance(options, LinkPagination):
        return Links()
    return Single()


def walk(
    pages: Paginator,
    request: Request,
    fetch: Callable[[Request], Page],
    *,
    max_pages: int,
    limit: int | None,
    render: Callable[[Request], str],
) -> Iterator[Any]:
    """Every record of every page, in order, within the safety limits."""
    current: Request | None = pages.first(request)
    seen: set[str] = set()
    count = fetched = 0
    while current is not None and (limit is None or count < limit):
        key = repr((current.url, sorted(current.params.items()), current.body))
        if key in seen:
            raise ConnectorError(
                f"pagination loops: page {fetched + 1} asks again for {render(current)}",
                hint="check the pagination options (the cursor or next-page path)",
            )
        seen.add(key)
        if fetched == max_pages:
            raise ConnectorError(
                f"more than max_pages={max_pages} pages; stopped before {render(current)}",
                hint="raise max_pages= to read them all, or pass limit= to read only the "
                "first records",
            )
        page = fetch(current)
        fetched += 1
        for record in page[2][: None if limit is None else limit - count]:
            count += 1
            yield record
        current = pages.next(current, page)

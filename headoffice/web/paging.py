"""Pages of a long list on a dashboard page: which rows page N holds, and the links to the
other pages that keep the page's filters (and any other list's page) in the address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

PAGE_SIZE = 100
AROUND = 2  # page links either side of the current page


def page_number(text: str | None) -> int:
    """The page a query parameter asks for; 1 for a missing or unreadable one (an address
    typed by hand shows the first page rather than an error)."""
    return int(text) if text and text.isdigit() and int(text) > 0 else 1


def pages(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // size))


def shown_page(asked: int, total: int, size: int = PAGE_SIZE) -> int:
    """The page shown: the one asked for, or the last one when it asks beyond it."""
    return min(max(1, asked), pages(total, size))


@dataclass(frozen=True)
class Pager:
    """Page `page` of `total` rows, `size` a page; `param` names the page in the address,
    `keep` the other parameters its links carry, `anchor` where a link lands."""

    page: int
    total: int
    param: str
    path: str
    keep: Mapping[str, str] = field(default_factory=dict)
    anchor: str = ""
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return pages(self.total, self.size)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def first_row(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last_row(self) -> int:
        return min(self.offset + self.size, self.total)

    def href(self, number: int) -> str:
        query = urlencode({**self.keep, self.param: number})
        return f"{self.path}?{query}" + (f"#{self.anchor}" if self.anchor else "")

    def numbers(self) -> list[int | None]:
        """The page numbers to link: the first, the last and a few around the current one;
        None where numbers are left out."""
        shown = sorted({1, self.pages, *range(max(1, self.page - AROUND),
                                              min(self.pages, self.page + AROUND) + 1)})
        out: list[int | None] = []
        for number in shown:
            if out and number - (out[-1] or 0) > 1:
                out.append(None)
            out.append(number)
        return out

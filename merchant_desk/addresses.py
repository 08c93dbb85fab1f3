"""A postal address in the order its country writes it.

The US writes "Austin, TX 78701"; the UK puts the town and the postcode on lines of their own;
Germany, France, Italy and Spain put the postcode before the town; Japan writes from the
postcode down (〒, prefecture, city, then the street lines). Other countries get the common
"postcode town" line. The country is named last, as a label for mail from abroad reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class PostalAddress(Protocol):
    """What :func:`address_lines` reads (Amazon's shipping and billing addresses)."""

    @property
    def name(self) -> str | None: ...
    @property
    def address_line1(self) -> str | None: ...
    @property
    def address_line2(self) -> str | None: ...
    @property
    def address_line3(self) -> str | None: ...
    @property
    def city(self) -> str | None: ...
    @property
    def county(self) -> str | None: ...
    @property
    def district(self) -> str | None: ...
    @property
    def state_or_region(self) -> str | None: ...
    @property
    def postal_code(self) -> str | None: ...
    @property
    def country_code(self) -> str | None: ...


def _join(*parts: str | None, sep: str = " ") -> str:
    return sep.join(p for p in parts if p)


def _streets(a: PostalAddress) -> list[str | None]:
    return [a.address_line1, a.address_line2, a.address_line3]


def _us(a: PostalAddress) -> list[str | None]:
    # "Austin, TX 78701"
    return [a.name, *_streets(a), _join(_join(a.city, a.state_or_region, sep=", "),
                                         a.postal_code)]


def _gb(a: PostalAddress) -> list[str | None]:
    # town in capitals on its own line, then the county if given, then the postcode
    return [a.name, *_streets(a), (a.city or "").upper() or None, a.county, a.postal_code]


def _postcode_first(a: PostalAddress) -> list[str | None]:
    # DE, FR, ES: "10115 Berlin"
    return [a.name, *_streets(a), _join(a.postal_code, a.city)]


def _it(a: PostalAddress) -> list[str | None]:
    # "00184 Roma RM"
    return [a.name, *_streets(a), _join(a.postal_code, a.city, a.state_or_region)]


def _es(a: PostalAddress) -> list[str | None]:
    # "28013 Madrid", then the province when it differs from the town
    province = a.state_or_region if a.state_or_region != a.city else None
    return [a.name, *_streets(a), _join(a.postal_code, a.city), province]


def _jp(a: PostalAddress) -> list[str | None]:
    # from the largest to the smallest: 〒postcode, prefecture and city, streets, then the name
    postcode = f"〒{a.postal_code}" if a.postal_code else None
    return [postcode, _join(a.state_or_region, a.city, a.district, sep=""), *_streets(a),
            a.name]


def _other(a: PostalAddress) -> list[str | None]:
    return [a.name, *_streets(a), _join(a.postal_code, a.city, a.state_or_region)]


_FORMATS: dict[str, Callable[[PostalAddress], list[str | None]]] = {
    "US": _us, "CA": _us, "AU": _us,
    "GB": _gb, "UK": _gb,
    "DE": _postcode_first, "AT": _postcode_first, "CH": _postcode_first,
    "FR": _postcode_first, "BE": _postcode_first, "NL": _postcode_first,
    "IT": _it, "ES": _es, "JP": _jp,
}


def address_lines(address: PostalAddress) -> list[str]:
    """The address as its country prints it, empty parts left out, the country code last."""
    country = (address.country_code or "").strip().upper()
    lines = _FORMATS.get(country, _other)(address)
    return [line for line in (*lines, country or None) if line]

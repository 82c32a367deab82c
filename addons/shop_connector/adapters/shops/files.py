"""File based order imports: Yatego's order CSV export and our generic JSON/CSV format.

Both download one file over HTTP(S) (basic auth optional) and yield it as one page. The
files carry no cursor: ``next_cursor`` is ``None`` (keep what you have) and re-imports
are harmless because the glue's unique index on the external id keeps one record per
order. The parsing is pure (:mod:`...services.order_generic`), so files uploaded by hand
and files picked up from an FTP or SFTP folder (:mod:`...adapters.remote_folder`) go
through the same code: :func:`parse_order_file`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import requests

from ....mail_crm_shop.services.errors import PermanentError
from ...services.order_generic import CsvMapping, orders_from_csv, orders_from_json
from ...services.orders import OrderPage, ShopOrder
from .base import MAPPING_ERRORS
from .http import HttpPolicy, ShopHttpClient, ShopTransientError

# the columns of Yatego's order export ("Bestellungen exportieren", CSV, semicolons,
# one line per ordered article); shops with a customised export pass their own mapping
YATEGO_COLUMNS = {
    "external_id": "Order_ID",
    "number": "Order_ID",
    "created_at": "Bestelldatum",
    "status": "Status",
    "payment_method": "Zahlungsart",
    "total": "Gesamtbetrag",
    "shipping_total": "Versandkosten",
    "cod_fee": "Nachnahmegebuehr",
    "customer_note": "Kommentar",
    "email": "Email",
    "phone": "Telefon",
    "billing_company": "Firma",
    "billing_name": "Name",
    "billing_street": "Strasse",
    "billing_zip": "PLZ",
    "billing_city": "Ort",
    "billing_country_code": "Land",
    "shipping_company": "Lieferadresse_Firma",
    "shipping_name": "Lieferadresse_Name",
    "shipping_street": "Lieferadresse_Strasse",
    "shipping_zip": "Lieferadresse_PLZ",
    "shipping_city": "Lieferadresse_Ort",
    "shipping_country_code": "Lieferadresse_Land",
    "line_sku": "Artikelnummer",
    "line_ean": "EAN",
    "line_name": "Artikelname",
    "line_quantity": "Anzahl",
    "line_unit_price": "Einzelpreis",
    "line_tax_rate": "MwSt",
}
YATEGO_MAPPING = CsvMapping(
    columns=YATEGO_COLUMNS,
    delimiter=";",
    date_format="%d.%m.%Y %H:%M",
    status_map={"neu": "open", "bezahlt": "paid", "versendet": "shipped", "storniert": "cancelled"},
)


def parse_yatego_csv(data: bytes, mapping: CsvMapping = YATEGO_MAPPING) -> tuple[ShopOrder, ...]:
    """Orders of a Yatego CSV export (cp1252 or UTF-8)."""
    return orders_from_csv(data, mapping)


def parse_order_file(
    data: bytes, file_format: str, csv_mapping: CsvMapping | None = None
) -> tuple[ShopOrder, ...]:
    """Orders of one file: ``"json"`` (our format) or ``"csv"``/``"yatego"`` read with
    ``csv_mapping`` (Yatego's documented columns when absent). Any order of the file that
    cannot be read refuses the whole file with a :class:`PermanentError`."""
    if not data:
        raise PermanentError("the file is empty")
    try:
        if file_format == "json":
            return orders_from_json(data)
        if file_format not in ("csv", "yatego"):
            raise PermanentError(f"unknown order file format {file_format!r}")
        return orders_from_csv(data, csv_mapping or YATEGO_MAPPING)
    except MAPPING_ERRORS as exc:
        if isinstance(exc, PermanentError):
            raise
        raise PermanentError(f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class FileImportSettings:
    """Where the file is; ``file_format`` ``"json"``, ``"csv"`` or ``"yatego"``."""

    url: str
    file_format: str = "json"
    login: str = ""
    password: str = ""
    csv_mapping: CsvMapping | None = None
    policy: HttpPolicy = field(default_factory=HttpPolicy)


class FileImportAdapter:
    """Download one order file and parse it (Yatego export, generic JSON or CSV)."""

    def __init__(
        self,
        settings: FileImportSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ):
        if settings.file_format not in ("json", "csv", "yatego"):
            raise PermanentError(f"unknown order file format {settings.file_format!r}")
        if settings.file_format == "csv" and settings.csv_mapping is None:
            raise PermanentError("a CSV order import needs a column mapping")
        self.settings = settings
        auth = (settings.login, settings.password) if settings.login else None
        self.http = ShopHttpClient(settings.policy, auth=auth, sleep=sleep, session=session)

    def fetch_orders(self, cursor: str | None = None) -> Iterator[OrderPage]:
        """Yield the file's orders as one page; the cursor is not used."""
        result = self.http.get(self.settings.url, expect_json=False)
        if self.settings.file_format == "json":
            try:
                json.loads(result.data)
            except ValueError as exc:
                raise ShopTransientError(
                    f"GET {result.url}: truncated or malformed JSON file: {exc}", result.url
                ) from None
        yield OrderPage(self.parse(result.data), None, has_more=False)

    def parse(self, data: bytes) -> tuple[ShopOrder, ...]:
        """Parse file content of the configured format."""
        if self.settings.file_format == "json":
            return orders_from_json(data)
        return orders_from_csv(data, self.settings.csv_mapping or YATEGO_MAPPING)

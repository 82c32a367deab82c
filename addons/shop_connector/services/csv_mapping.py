"""Column mapping of CSV order files: which fields exist, checks and a preview.

The mapping itself is :class:`~.order_generic.CsvMapping`; this module helps a person
build one: the fields a column can be mapped to (:data:`CSV_FIELDS`), what is missing
(:func:`check_mapping`) and the first rows of a sample file as the mapping reads them
(:func:`preview`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...mail_crm_shop.services.errors import PermanentError
from .order_generic import CSV_REQUIRED, CsvMapping, csv_reader, missing_required

# every field a CSV column can be mapped to, in the order a person reads an order
CSV_FIELDS = (
    "external_id",
    "number",
    "created_at",
    "status",
    "payment_method",
    "currency",
    "total",
    "shipping_total",
    "discount_total",
    "cod_fee",
    "shipping_method",
    "customer_note",
    "email",
    "customer_name",
    "phone",
    "billing_company",
    "billing_name",
    "billing_street",
    "billing_street2",
    "billing_zip",
    "billing_city",
    "billing_country_code",
    "shipping_company",
    "shipping_name",
    "shipping_street",
    "shipping_street2",
    "shipping_zip",
    "shipping_city",
    "shipping_country_code",
    "line_sku",
    "line_ean",
    "line_name",
    "line_quantity",
    "line_unit_price",
    "line_tax_rate",
)
REQUIRED_FIELDS = (*CSV_REQUIRED, "line_sku")  # line_sku: or line_ean


@dataclass(frozen=True, slots=True)
class MappingProblems:
    """What keeps a mapping from reading a file: unmapped required fields and mapped
    columns the sample file does not have (both empty: the mapping is usable)."""

    missing_fields: tuple[str, ...] = ()
    unknown_columns: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.missing_fields or self.unknown_columns)


@dataclass(frozen=True, slots=True)
class CsvPreview:
    """The header and the first rows of a file, as the mapping splits them."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # per field mapped to a column: the value of the first row
    first_values: tuple[tuple[str, str], ...]


def check_mapping(
    columns: Mapping[str, str], headers: tuple[str, ...] | None = None
) -> MappingProblems:
    """The problems of ``columns`` (field → column); with a sample's ``headers`` also the
    mapped columns that file lacks."""
    unknown: tuple[str, ...] = ()
    if headers is not None:
        present = set(headers)
        unknown = tuple(sorted({col for col in columns.values() if col and col not in present}))
    return MappingProblems(tuple(missing_required(columns)), unknown)


def preview(data: bytes, mapping: CsvMapping, max_rows: int = 5) -> CsvPreview:
    """The first ``max_rows`` rows of ``data`` read with the mapping's encoding and
    delimiter; an unreadable file is a :class:`PermanentError`."""
    if not data:
        raise PermanentError("the file is empty")
    reader = csv_reader(data, mapping)
    headers = tuple(reader.fieldnames or ())
    if not headers:
        raise PermanentError("the file has no header line")
    rows = []
    for row in reader:
        if len(rows) >= max_rows:
            break
        rows.append(tuple((row.get(h) or "") for h in headers))
    first = rows[0] if rows else ()
    by_header = dict(zip(headers, first, strict=False))
    first_values = tuple(
        (name, by_header.get(column, ""))
        for name in CSV_FIELDS
        if (column := mapping.columns.get(name))
    )
    return CsvPreview(headers, tuple(rows), first_values)

"""Generic order import: our own JSON format and CSV files with a column mapping.

JSON: the normalized :class:`~.orders.ShopOrder` as JSON (money as decimal strings,
timestamps ISO 8601), documented in ``tests/data/shops/generic/order.schema.json``. A
file holds one order object, a list of them, or ``{"orders": [...]}``.

CSV: one row per order line; rows with the same order id form one order (they need not
be adjacent). A :class:`CsvMapping` names the column of each field. UTF-8 (with or
without BOM) and Windows-1252 files are read.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ...mail_crm_shop.services.errors import PermanentError
from .csv_status import map_status
from .orders import (
    ShopAddress,
    ShopFee,
    ShopOrder,
    ShopOrderLine,
    format_datetime,
    make_address,
    make_customer,
    parse_datetime,
    to_decimal,
)

ADDRESS_FIELDS = ("name", "company", "street", "street2", "zip", "city", "country_code", "state")
ORDER_REQUIRED = ("external_id", "created_at", "status", "currency", "total")
# and an article number: line_sku or line_ean
CSV_REQUIRED = ("external_id", "created_at", "total", "line_quantity", "line_unit_price")


# ---------------------------------------------------------------------- JSON


def order_to_json(order: ShopOrder) -> dict[str, Any]:
    """``order`` in our JSON format (without ``raw``)."""
    return {
        "external_id": order.external_id,
        "number": order.number,
        "created_at": format_datetime(order.created_at),
        "updated_at": format_datetime(order.updated_at),
        "status": order.status,
        "payment_method": order.payment_method,
        "is_paid": order.is_paid,
        "currency": order.currency,
        "total": str(order.total),
        "shipping_total": str(order.shipping_total),
        "discount_total": str(order.discount_total),
        "customer": {
            "email": order.customer.email,
            "name": order.customer.name,
            "phone": order.customer.phone,
            "company": order.customer.company,
        },
        "billing": _address_to_json(order.billing),
        "shipping": _address_to_json(order.shipping),
        "lines": [_line_to_json(line) for line in order.lines],
        "fees": [{"kind": f.kind, "amount": str(f.amount), "label": f.label} for f in order.fees],
        "customer_note": order.customer_note,
        "shipping_method": order.shipping_method,
        "shipping_method_title": order.shipping_method_title,
    }


def _address_to_json(address: ShopAddress) -> dict[str, str]:
    return {k: getattr(address, k) for k in ADDRESS_FIELDS}


def _line_to_json(line: ShopOrderLine) -> dict[str, Any]:
    return {
        "external_id": line.external_id,
        "sku": line.sku,
        "ean": line.ean,
        "name": line.name,
        "quantity": str(line.quantity),
        "unit_price": str(line.unit_price),
        "price_includes_tax": line.price_includes_tax,
        "tax_rate": None if line.tax_rate is None else str(line.tax_rate),
        "discount": str(line.discount),
    }


def _address_from_json(data: Any, where: str) -> ShopAddress:
    if data is None:
        return ShopAddress()
    if not isinstance(data, Mapping):
        raise PermanentError(f"{where}: must be an object")
    return make_address(
        name=data.get("name", ""),
        company=data.get("company", ""),
        street=data.get("street", ""),
        street2=data.get("street2", ""),
        zip_code=data.get("zip", ""),
        city=data.get("city", ""),
        country_code=data.get("country_code", ""),
        state=data.get("state", ""),
    )


def _line_from_json(data: Any, where: str) -> ShopOrderLine:
    if not isinstance(data, Mapping):
        raise PermanentError(f"{where}: must be an object")
    if "quantity" not in data or "unit_price" not in data:
        raise PermanentError(f"{where}: quantity and unit_price are required")
    rate = data.get("tax_rate")
    return ShopOrderLine(
        external_id=str(data.get("external_id") or ""),
        sku=str(data.get("sku") or ""),
        ean=str(data.get("ean") or ""),
        name=str(data.get("name") or ""),
        quantity=to_decimal(data["quantity"], f"{where}.quantity"),
        unit_price=to_decimal(data["unit_price"], f"{where}.unit_price"),
        price_includes_tax=bool(data.get("price_includes_tax", True)),
        tax_rate=None if rate in (None, "") else to_decimal(rate, f"{where}.tax_rate"),
        discount=to_decimal(data.get("discount"), f"{where}.discount"),
    )


def order_from_json(data: Any) -> ShopOrder:
    """Read one order of our JSON format; a clear :class:`PermanentError` if invalid."""
    where, lines, fees, customer = _order_json_parts(data)
    created = parse_datetime(data["created_at"], f"{where}.created_at")
    return ShopOrder(
        external_id=str(data["external_id"]),
        number=str(data.get("number") or data["external_id"]),
        created_at=created,
        updated_at=parse_datetime(data["updated_at"], f"{where}.updated_at")
        if data.get("updated_at")
        else created,
        status=str(data["status"]),
        payment_method=str(data.get("payment_method") or ""),
        is_paid=bool(data.get("is_paid", False)),
        currency=str(data["currency"]).upper(),
        total=to_decimal(data["total"], f"{where}.total"),
        shipping_total=to_decimal(data.get("shipping_total"), f"{where}.shipping_total"),
        discount_total=to_decimal(data.get("discount_total"), f"{where}.discount_total"),
        customer=make_customer(
            email=customer.get("email", ""),
            name=customer.get("name", ""),
            phone=customer.get("phone", ""),
            company=customer.get("company", ""),
        ),
        billing=_address_from_json(data.get("billing"), f"{where}.billing"),
        shipping=_address_from_json(
            data.get("shipping") or data.get("billing"), f"{where}.shipping"
        ),
        lines=tuple(_line_from_json(li, f"{where}.lines[{i}]") for i, li in enumerate(lines)),
        fees=tuple(_fee_from_json(f, f"{where}.fees[{i}]") for i, f in enumerate(fees)),
        customer_note=str(data.get("customer_note") or "").strip(),
        shipping_method=str(data.get("shipping_method") or "").strip(),
        shipping_method_title=str(data.get("shipping_method_title") or "").strip(),
        raw=dict(data),
    )


def _order_json_parts(data: Any) -> tuple[str, list, list, Mapping]:
    """Check the order's shape; return its name in errors, its lines, fees and customer."""
    if not isinstance(data, Mapping):
        raise PermanentError("order: must be a JSON object")
    where = f"order {data.get('external_id', '?')}"
    missing = [k for k in ORDER_REQUIRED if data.get(k) in (None, "")]
    if missing:
        raise PermanentError(f"{where}: missing {', '.join(missing)}")
    lines = data.get("lines") or []
    fees = data.get("fees") or []
    if not isinstance(lines, list) or not isinstance(fees, list):
        raise PermanentError(f"{where}: lines and fees must be lists")
    customer = data.get("customer") or {}
    if not isinstance(customer, Mapping):
        raise PermanentError(f"{where}.customer: must be an object")
    return where, lines, fees, customer


def _fee_from_json(data: Any, where: str) -> ShopFee:
    return ShopFee(
        kind=str(data.get("kind", "")),
        amount=to_decimal(data.get("amount"), f"{where}.amount"),
        label=str(data.get("label") or ""),
    )


def orders_from_json(payload: bytes | str) -> tuple[ShopOrder, ...]:
    """Read a JSON document: one order, a list of orders or ``{"orders": [...]}``."""
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise PermanentError(f"not a JSON document: {exc}") from None
    if isinstance(data, Mapping) and "orders" in data:
        data = data["orders"]
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise PermanentError("JSON document must hold an order, a list or {'orders': [...]}")
    return tuple(order_from_json(item) for item in data)


# ----------------------------------------------------------------------- CSV


@dataclass(frozen=True, slots=True)
class CsvMapping:
    """Which CSV column holds which field; absent fields take their defaults.

    ``columns`` maps our field names (``external_id``, ``number``, ``created_at``,
    ``status``, ``payment_method``, ``currency``, ``total``, ``shipping_total``,
    ``discount_total``, ``cod_fee``, ``customer_note``, ``shipping_method``, ``email``,
    ``customer_name``, ``phone``, ``billing_<f>`` / ``shipping_<f>`` for the address
    fields, ``line_sku``, ``line_ean``, ``line_name``, ``line_quantity``,
    ``line_unit_price``, ``line_tax_rate``) to column headers. ``status_map`` translates
    the file's status values; ``paid_statuses`` are the (translated) statuses meaning paid.
    """

    columns: Mapping[str, str]
    delimiter: str = ";"
    date_format: str = "%Y-%m-%d %H:%M:%S"
    default_currency: str = "EUR"
    default_status: str = "open"
    prices_include_tax: bool = True
    status_map: Mapping[str, str] = field(default_factory=dict)
    paid_statuses: tuple[str, ...] = ("paid", "shipped")
    # "auto": UTF-8 if it decodes, else Windows-1252; else a Python codec name
    encoding: str = "auto"
    # "auto": guessed per value (see ``to_decimal``); else "," or "."
    decimal_separator: str = "auto"


def decode_text(data: bytes, encoding: str = "auto") -> str:
    """UTF-8 (BOM stripped) if it decodes, else Windows-1252 (old German exports); or the
    given ``encoding`` (a file that does not decode in it is refused)."""
    if encoding and encoding != "auto":
        try:
            return data.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise PermanentError(f"the file is not {encoding}: {exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def csv_reader(data: bytes, mapping: CsvMapping) -> csv.DictReader:
    """A dict reader over ``data`` with the mapping's encoding and delimiter."""
    text = decode_text(data, mapping.encoding)
    return csv.DictReader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)


def _number(value: str, mapping: CsvMapping, what: str):
    """A CSV amount with the mapping's decimal separator (thousands marks dropped)."""
    text = (value or "").strip().replace("\u00a0", "").replace(" ", "")
    if text and mapping.decimal_separator == ",":
        text = text.replace(".", "").replace(",", ".")
    elif text and mapping.decimal_separator == ".":
        text = text.replace(",", "")
    return to_decimal(text, what)


def missing_required(columns: Mapping[str, str]) -> list[str]:
    """The required fields ``columns`` maps to no column (SKU or EAN: one is enough)."""
    missing = [name for name in CSV_REQUIRED if not columns.get(name)]
    if not (columns.get("line_sku") or columns.get("line_ean")):
        missing.append("line_sku")
    return missing


def orders_from_csv(data: bytes, mapping: CsvMapping) -> tuple[ShopOrder, ...]:
    """Read a CSV export, one row per order line, grouped by the order id column."""
    reader = csv_reader(data, mapping)
    headers = set(reader.fieldnames or ())
    required = [*CSV_REQUIRED, "line_sku" if mapping.columns.get("line_sku") else "line_ean"]
    missing = [
        f"{name} (column {mapping.columns.get(name)!r})"
        for name in required
        if mapping.columns.get(name) not in headers
    ]
    if missing:
        raise PermanentError(f"CSV file lacks required columns: {', '.join(missing)}")
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in enumerate(reader, start=2):
        values = {name: (row.get(column) or "").strip() for name, column in mapping.columns.items()}
        if not any(values.values()):
            continue
        if not values["external_id"]:
            raise PermanentError(f"CSV row {number}: no order id")
        groups.setdefault(values["external_id"], []).append((number, dict(row)))
    return tuple(_csv_order(rows, mapping) for rows in groups.values())


def order_from_csv_rows(raw: Mapping[str, Any], mapping: CsvMapping) -> ShopOrder:
    """Map a stored CSV order again (``raw`` of :func:`orders_from_csv`: its rows)."""
    rows = raw.get("rows") if isinstance(raw, Mapping) else None
    if not isinstance(rows, list) or not rows:
        raise PermanentError("stored CSV order has no rows")
    numbers = raw.get("row_numbers") or list(range(2, len(rows) + 2))
    return _csv_order(list(zip(numbers, rows, strict=False)), mapping)


def _csv_date(value: str, mapping: CsvMapping, where: str) -> datetime:
    if not value:
        raise PermanentError(f"{where}: missing order date")
    try:
        return datetime.strptime(value, mapping.date_format).replace(tzinfo=timezone.utc)
    except ValueError:
        return parse_datetime(value, where)


def _csv_address(values: Mapping[str, str], prefix: str) -> ShopAddress:
    return make_address(
        name=values.get(f"{prefix}_name", ""),
        company=values.get(f"{prefix}_company", ""),
        street=values.get(f"{prefix}_street", ""),
        street2=values.get(f"{prefix}_street2", ""),
        zip_code=values.get(f"{prefix}_zip", ""),
        city=values.get(f"{prefix}_city", ""),
        country_code=values.get(f"{prefix}_country_code", ""),
        state=values.get(f"{prefix}_state", ""),
    )


def _csv_order(rows: list[tuple[int, dict[str, str]]], mapping: CsvMapping) -> ShopOrder:
    """One order from its ``(row number, row)`` pairs; the first row gives the order fields."""
    parsed = _csv_values(rows, mapping)
    first_row, head = parsed[0]
    where = f"CSV row {first_row} (order {head.get('external_id')})"
    _check_one_order(parsed)
    status = map_status(head.get("status", ""), mapping.status_map, mapping.default_status)
    created = _csv_date(head.get("created_at", ""), mapping, where)
    has_shipping = any(head.get(f"shipping_{k}") for k in ("street", "zip", "city"))
    billing = _csv_address(head, "billing")
    cod = _number(head.get("cod_fee", ""), mapping, f"{where}: cod_fee")
    lines = [_csv_line(number, values, mapping) for number, values in parsed]
    return ShopOrder(
        external_id=head["external_id"],
        number=head.get("number") or head["external_id"],
        created_at=created,
        updated_at=created,
        status=status,
        payment_method=head.get("payment_method", ""),
        is_paid=status in mapping.paid_statuses,
        currency=(head.get("currency") or mapping.default_currency).upper(),
        total=_number(head.get("total", ""), mapping, f"{where}: total"),
        shipping_total=_number(head.get("shipping_total", ""), mapping, f"{where}: shipping"),
        discount_total=abs(_number(head.get("discount_total", ""), mapping, f"{where}: discount")),
        customer=make_customer(
            email=head.get("email", ""),
            name=head.get("customer_name", "") or billing.name,
            phone=head.get("phone", ""),
            company=billing.company,
        ),
        billing=billing,
        shipping=_csv_address(head, "shipping") if has_shipping else billing,
        lines=tuple(lines),
        fees=(ShopFee("cod", cod, "COD"),) if cod else (),
        customer_note=head.get("customer_note", ""),
        shipping_method=head.get("shipping_method", ""),
        raw={"rows": [row for _, row in rows], "row_numbers": [number for number, _ in rows]},
    )


def _csv_values(
    rows: list[tuple[int, dict[str, str]]], mapping: CsvMapping
) -> list[tuple[int, dict[str, str]]]:
    """Each row as ``(row number, {field: stripped value})`` of the mapped columns."""
    return [
        (number, {name: (row.get(col) or "").strip() for name, col in mapping.columns.items()})
        for number, row in rows
    ]


def _check_one_order(parsed: list[tuple[int, dict[str, str]]]) -> None:
    """The rows of one order name its id and all give the same total."""
    first_row, head = parsed[0]
    if not head.get("external_id"):
        raise PermanentError(f"CSV row {first_row}: no order id")
    for number, values in parsed[1:]:
        if values.get("total") != head.get("total"):
            raise PermanentError(
                f"CSV row {number}: order {head['external_id']} has total {values.get('total')!r}"
                f" but row {first_row} says {head.get('total')!r}"
            )


def _csv_line(number: int, values: Mapping[str, str], mapping: CsvMapping) -> ShopOrderLine:
    at = f"CSV row {number}"
    rate = values.get("line_tax_rate", "")
    return ShopOrderLine(
        sku=values.get("line_sku", ""),
        ean=values.get("line_ean", ""),
        name=values.get("line_name", ""),
        quantity=_number(values.get("line_quantity", ""), mapping, f"{at}: quantity"),
        unit_price=_number(values.get("line_unit_price", ""), mapping, f"{at}: unit price"),
        price_includes_tax=mapping.prices_include_tax,
        tax_rate=_number(rate.rstrip("%"), mapping, f"{at}: tax rate") if rate else None,
        external_id=str(number),
    )

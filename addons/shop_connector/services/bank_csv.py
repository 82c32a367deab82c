"""Read bank CSV exports with a saved column mapping.

German banks export semicolon-separated cp1252 files with ``1.234,56`` amounts, dates as
``02.03.2026`` and often a few lines of preamble (account, period) above the header. A
:class:`CsvMapping` says how to read one bank's layout; it is stored once per bank
account and reused for every file.

Rows that can't be read are not dropped silently: each becomes a :class:`RowError` with
its line number and reason, next to the transactions that could be read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from ...mail_crm_shop.services.errors import PermanentError
from .payments import BankTransaction, bank_key, disambiguate_keys

FIELDS = (
    "booking_date",
    "value_date",
    "amount",
    "debit",
    "credit",
    "currency",
    "counterparty_name",
    "counterparty_iban",
    "purpose",
    "end_to_end_id",
    "entry_reference",
)
_GROUPED_RE = {  # 1234,56 or 1.234,56 (decimal comma); 1234.56 or 1,234.56
    True: re.compile(r"(\d+|\d{1,3}(\.\d{3})+)(,\d+)?"),
    False: re.compile(r"(\d+|\d{1,3}(,\d{3})+)(\.\d+)?"),
}
_BLANK = "\u00a0\u202f "


@dataclass(frozen=True, slots=True)
class CsvMapping:
    """How to read one bank's CSV export.

    ``columns`` maps our field names (:data:`FIELDS`) to the header text of the file.
    ``booking_date`` and either ``amount`` or ``debit``/``credit`` are required;
    ``purpose`` may list several headers separated by ``+`` (joined with a space).
    """

    delimiter: str = ";"
    encoding: str = "cp1252"
    date_format: str = "%d.%m.%Y"
    decimal_comma: bool = True
    columns: Mapping[str, str] = field(default_factory=dict)
    default_currency: str = "EUR"

    def __post_init__(self):
        unknown = set(self.columns) - set(FIELDS)
        if unknown:
            raise PermanentError(f"CSV mapping has unknown fields: {', '.join(sorted(unknown))}")
        if "booking_date" not in self.columns:
            raise PermanentError("CSV mapping needs a booking_date column")
        if "amount" not in self.columns and not {"debit", "credit"} <= set(self.columns):
            raise PermanentError("CSV mapping needs an amount column or debit and credit columns")
        if len(self.delimiter) != 1:
            raise PermanentError("CSV delimiter must be one character")


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be read: 1-based line number in the file and why."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class CsvImport:
    """Result of reading one file: the transactions and the rows that failed."""

    transactions: tuple[BankTransaction, ...]
    errors: tuple[RowError, ...]


def parse_amount(text: str, decimal_comma: bool) -> Decimal:
    """``"1.234,56"`` → 1234.56 (``decimal_comma``), ``"-1,234.56"`` → -1234.56 otherwise.

    Accepts a leading or trailing sign, spaces and a trailing currency word
    (``"12,50 EUR"``); raises ``ValueError`` on anything else.
    """
    cleaned = text.strip().strip(_BLANK)
    cleaned = re.sub(r"\s*[A-Za-z€]{1,3}$", "", cleaned)
    for blank in _BLANK:
        cleaned = cleaned.replace(blank, "")
    negative = False
    if cleaned.endswith("-"):
        negative, cleaned = True, cleaned[:-1]
    if cleaned[:1] in "+-" and cleaned:
        negative, cleaned = negative or cleaned[0] == "-", cleaned[1:]
    group, point = (".", ",") if decimal_comma else (",", ".")
    if not _GROUPED_RE[decimal_comma].fullmatch(cleaned):
        raise ValueError(f"not an amount: {text!r}")
    cleaned = cleaned.replace(group, "").replace(point, ".")
    value = Decimal(cleaned)  # the pattern above only lets digits and one point through
    return -value if negative else value


def _decode(data: bytes, encoding: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data, encoding = data[3:], "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise PermanentError(
            f"CSV file is not {encoding}: byte {exc.start} can't be read; "
            "check the encoding of the mapping"
        ) from exc
    except LookupError as exc:
        raise PermanentError(f"unknown encoding {encoding!r} in the CSV mapping") from exc


def _find_header(rows: list[list[str]], wanted: set[str]) -> int:
    for index, row in enumerate(rows):
        if wanted <= {cell.strip() for cell in row}:
            return index
    raise PermanentError(
        "CSV header not found: no line has all mapped columns "
        f"({', '.join(sorted(wanted))}); check the mapping"
    )


def parse_bank_csv(data: bytes, mapping: CsvMapping, account: str) -> CsvImport:
    """Read a bank CSV export of ``account`` (its IBAN) with ``mapping``.

    Raises :class:`PermanentError` if the file as a whole can't be read (encoding,
    header); bad rows are returned as :class:`RowError` next to the good ones.
    """
    text = _decode(data, mapping.encoding)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter))
    headers = {
        name: [part.strip() for part in header.split("+")]
        for name, header in mapping.columns.items()
    }
    wanted = {part for parts in headers.values() for part in parts}
    header_index = _find_header(rows, wanted)
    transactions, errors = _read_rows(rows, header_index, headers, mapping, account)
    return CsvImport(tuple(_with_unique_keys(transactions)), tuple(errors))


def _read_rows(
    rows: list[list[str]],
    header_index: int,
    headers: dict[str, list[str]],
    mapping: CsvMapping,
    account: str,
) -> tuple[list[BankTransaction], list[RowError]]:
    """The transactions of the rows below the header, and the rows that can't be read."""
    header = rows[header_index]
    position = {cell.strip(): i for i, cell in enumerate(header)}
    transactions: list[BankTransaction] = []
    errors: list[RowError] = []
    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.append(
                RowError(
                    offset,
                    f"row has {len(row)} columns, the header {len(header)}: "
                    "check the delimiter and quoting",
                )
            )
            continue
        try:
            values = _row_values(row, position, headers)
            transactions.append(_transaction(values, mapping, account, mapping.delimiter.join(row)))
        except (ValueError, KeyError) as exc:
            errors.append(RowError(offset, str(exc)))
    return transactions, errors


def _row_values(
    row: list[str], position: dict[str, int], headers: dict[str, list[str]]
) -> dict[str, str]:
    """Our field name -> the row's text (several ``+`` columns joined with a space)."""
    return {
        name: " ".join(
            row[position[part]].strip() for part in parts if position[part] < len(row)
        ).strip()
        for name, parts in headers.items()
    }


def _with_unique_keys(transactions: list[BankTransaction]) -> list[BankTransaction]:
    """``transactions`` with the keys of identical rows told apart."""
    keys = disambiguate_keys([t.key for t in transactions])
    return [t if t.key == k else replace(t, key=k) for t, k in zip(transactions, keys, strict=True)]


def _end_to_end(text: str) -> str:
    return "" if text.upper() == "NOTPROVIDED" else text


def _date(text: str, fmt: str, label: str) -> date:
    try:
        return datetime.strptime(text, fmt).date()
    except ValueError as exc:
        raise ValueError(f"{label} {text!r} does not match {fmt}") from exc


def _transaction(
    values: dict[str, str], mapping: CsvMapping, account: str, raw: str
) -> BankTransaction:
    if not values["booking_date"]:
        raise ValueError("booking date is empty")
    booking = _date(values["booking_date"], mapping.date_format, "booking date")
    value_date = (
        _date(values["value_date"], mapping.date_format, "value date")
        if values.get("value_date")
        else None
    )
    amount = _amount(values, mapping)
    currency = _currency(values, mapping)
    name = values.get("counterparty_name", "")
    iban = values.get("counterparty_iban", "").replace(" ", "").upper()
    purpose = " ".join(values.get("purpose", "").split())
    reference = values.get("entry_reference", "")
    return BankTransaction(
        key=bank_key(account, reference, booking, amount, currency, name, iban, purpose),
        account=account,
        booking_date=booking,
        value_date=value_date,
        amount=amount,
        currency=currency,
        counterparty_name=name,
        counterparty_iban=iban,
        purpose=purpose,
        end_to_end_id=_end_to_end(values.get("end_to_end_id", "")),
        entry_reference=reference,
        kind="payment",
        raw=raw,
    )


def _amount(values: dict[str, str], mapping: CsvMapping) -> Decimal:
    """The signed amount: one amount column, or a debit (made negative) or a credit."""
    if "amount" in values:
        if not values["amount"]:
            raise ValueError("amount is empty")
        amount = parse_amount(values["amount"], mapping.decimal_comma)
    else:
        debit = values.get("debit") or ""
        credit = values.get("credit") or ""
        if bool(debit) == bool(credit):
            raise ValueError("exactly one of debit and credit must be filled")
        amount = (
            -abs(parse_amount(debit, mapping.decimal_comma))
            if debit
            else parse_amount(credit, mapping.decimal_comma)
        )
    if not amount:
        raise ValueError("amount is zero")
    return amount


def _currency(values: dict[str, str], mapping: CsvMapping) -> str:
    currency = (values.get("currency") or mapping.default_currency).upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError(f"currency {currency!r} is not an ISO code")
    return currency

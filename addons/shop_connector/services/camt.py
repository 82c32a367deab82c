"""Read ISO 20022 CAMT.053 bank statements (``camt.053.001.02`` and ``camt.053.001.08``).

The file is parsed with a hardened lxml parser (no entity resolution, no network, no DTD
loading); any DOCTYPE is refused, so XXE and entity-expansion bombs are rejected before
anything is read. The document is then validated against the official ISO 20022 schema
of its version shipped in ``schemas/``. Every error is a :class:`PermanentError` with a
message a person can act on: a broken file does not get better by retrying.

Each entry (``Ntry``) becomes one :class:`BankTransaction`; a batch entry with several
transaction details (``NtryDtls/TxDtls``) becomes one transaction per detail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

import xmlschema
from lxml import etree

from ...mail_crm_shop.services.errors import PermanentError
from .payments import BankTransaction, bank_key, disambiguate_keys

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
NAMESPACES = {
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02": "camt.053.001.02",
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08": "camt.053.001.08",
}
MAX_ERRORS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class CamtStatement:
    """One ``Stmt`` of a CAMT.053 file.

    ``skipped`` describes the entries that are not booked (status ``PDNG``/``INFO``):
    they carry no money yet and come again, booked, in a later statement.
    """

    statement_id: str
    account_iban: str
    currency: str
    transactions: tuple[BankTransaction, ...]
    skipped: tuple[str, ...] = ()


@cache
def _schema(version: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_DIR / f"{version}.xsd"))


def _secure_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=True,
    )


def _declares_doctype(data: bytes) -> bool:
    head = data[:65536]
    return any(
        marker.encode(encoding) in head
        for marker in ("<!DOCTYPE", "<!ENTITY")
        for encoding in ("ascii", "utf-16-le", "utf-16-be")
    )


def parse_document(data: bytes) -> tuple[etree._Element, str]:
    """Parse and validate ``data``; return the root element and the message version."""
    if not data or not data.strip():
        raise PermanentError("CAMT file is empty")
    if _declares_doctype(data):
        raise PermanentError(
            "CAMT file refused: it declares a DOCTYPE (entities are never resolved)"
        )
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser=_secure_parser()))
    except etree.XMLSyntaxError as exc:
        raise PermanentError(f"CAMT file is not well-formed XML: {exc}") from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise PermanentError(
            "CAMT file refused: it declares a DOCTYPE (entities are never resolved)"
        )
    root = tree.getroot()
    namespace = etree.QName(root).namespace
    version = NAMESPACES.get(namespace or "")
    if version is None:
        raise PermanentError(
            f"not a supported CAMT.053 statement: namespace {namespace!r}; "
            f"supported: {', '.join(sorted(NAMESPACES.values()))}"
        )
    errors = list(_schema(version).iter_errors(root))
    if errors:
        shown = "; ".join(f"{err.path}: {err.reason}" for err in errors[:MAX_ERRORS_SHOWN])
        raise PermanentError(f"CAMT file violates the {version} schema: {shown}")
    return root, version


def parse_camt053(data: bytes) -> tuple[CamtStatement, ...]:
    """Return the statements of a CAMT.053 file (validated, hostile content refused)."""
    root, _version = parse_document(data)
    ns = {"c": etree.QName(root).namespace}
    return tuple(_statement(node, ns) for node in root.iterfind("c:BkToCstmrStmt/c:Stmt", ns))


def _text(node, path: str, ns: dict) -> str:
    if node is None:
        return ""
    found = node.find(path, ns)
    return (found.text or "").strip() if found is not None else ""


def _date(node, path: str, ns: dict) -> date | None:
    day = _text(node, f"{path}/c:Dt", ns)
    if day:
        return date.fromisoformat(day)
    stamp = _text(node, f"{path}/c:DtTm", ns)
    if stamp:
        return datetime.fromisoformat(stamp).date()
    return None


def _amount(node, ns: dict) -> tuple[Decimal, str] | None:
    amt = node.find("c:Amt", ns)
    if amt is None:
        return None
    try:
        value = Decimal(amt.text.strip())
    except (InvalidOperation, AttributeError) as exc:
        raise PermanentError(f"bad amount {amt.text!r}") from exc
    return value, amt.get("Ccy", "")


def _statement(stmt, ns: dict) -> CamtStatement:
    iban = _text(stmt, "c:Acct/c:Id/c:IBAN", ns) or _text(stmt, "c:Acct/c:Id/c:Othr/c:Id", ns)
    currency = _text(stmt, "c:Acct/c:Ccy", ns)
    transactions: list[BankTransaction] = []
    skipped: list[str] = []
    for index, entry in enumerate(stmt.iterfind("c:Ntry", ns), start=1):
        status = _text(entry, "c:Sts", ns) or _text(entry, "c:Sts/c:Cd", ns)
        if status != "BOOK":
            amount = _amount(entry, ns)
            skipped.append(f"entry {index} ({status}, {amount[0] if amount else '?'}): not booked")
            continue
        try:
            transactions.extend(_entry(entry, iban, ns))
        except PermanentError as exc:
            raise PermanentError(
                f"statement {_text(stmt, 'c:Id', ns)}, entry {index}: {exc}"
            ) from exc
    keys = disambiguate_keys([t.key for t in transactions])
    transactions = [
        t if t.key == key else replace(t, key=key)
        for t, key in zip(transactions, keys, strict=True)
    ]
    return CamtStatement(
        _text(stmt, "c:Id", ns), iban, currency, tuple(transactions), tuple(skipped)
    )


def _party(details, role: str, ns: dict) -> tuple[str, str]:
    """Name and IBAN of the debtor or creditor (02: ``Dbtr/Nm``; 08: ``Dbtr/Pty/Nm``)."""
    parties = details.find("c:RltdPties", ns) if details is not None else None
    if parties is None:
        return "", ""
    name = _text(parties, f"c:{role}/c:Nm", ns) or _text(parties, f"c:{role}/c:Pty/c:Nm", ns)
    iban = _text(parties, f"c:{role}Acct/c:Id/c:IBAN", ns)
    return name, iban


def _purpose(details, ns: dict) -> str:
    if details is None:
        return ""
    parts = [(n.text or "").strip() for n in details.iterfind("c:RmtInf/c:Ustrd", ns)]
    parts += [
        (n.text or "").strip() for n in details.iterfind("c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref", ns)
    ]
    return " ".join(p for p in parts if p)


def _kind(entry, ns: dict) -> str:
    if _text(entry, "c:RvslInd", ns).lower() == "true":
        return "reversal"
    family = _text(entry, "c:BkTxCd/c:Domn/c:Fmly/c:Cd", ns)
    sub_family = _text(entry, "c:BkTxCd/c:Domn/c:Fmly/c:SubFmlyCd", ns)
    if sub_family in ("CHRG", "FEES", "COMM") or family == "CHRG":
        return "fee"
    return "payment"


def _entry(entry, account: str, ns: dict) -> list[BankTransaction]:
    entry_amount = _amount(entry, ns)
    if entry_amount is None:
        raise PermanentError("entry has no amount")
    head = _entry_head(entry, account, ns)
    parts = _entry_parts(entry, entry_amount, head.reference, ns)
    return [_detail_transaction(entry, head, part, ns) for part in parts]


@dataclass(frozen=True, slots=True)
class _EntryHead:
    """What every transaction made of one entry shares."""

    account: str
    indicator: str
    booking: date
    value_date: date | None
    reference: str
    kind: str
    raw: str


def _entry_head(entry, account: str, ns: dict) -> _EntryHead:
    indicator = _text(entry, "c:CdtDbtInd", ns)
    booking = _date(entry, "c:BookgDt", ns) or _date(entry, "c:ValDt", ns)
    if booking is None:
        raise PermanentError("entry has neither a booking nor a value date")
    return _EntryHead(
        account=account,
        indicator=indicator,
        booking=booking,
        value_date=_date(entry, "c:ValDt", ns),
        reference=_text(entry, "c:AcctSvcrRef", ns),
        kind=_kind(entry, ns),
        raw=etree.tostring(entry, encoding="unicode"),
    )


def _entry_parts(entry, entry_amount: tuple[Decimal, str], reference: str, ns: dict) -> list[tuple]:
    """``(detail, (amount, currency), position, purpose override)`` per transaction."""
    details = list(entry.iterfind("c:NtryDtls/c:TxDtls", ns))
    amounts = [_detail_amount(d, ns) for d in details]
    if len(details) > 1 and all(amounts):
        total = sum((amt for amt, _ in amounts), Decimal(0))
        if total != entry_amount[0]:
            raise PermanentError(
                f"batch entry {reference or ''}: details sum to {total}, "
                f"entry amount is {entry_amount[0]}"
            )
        return [
            (detail, amount, position, None)
            for position, (detail, amount) in enumerate(zip(details, amounts, strict=True), 1)
        ]
    if len(details) > 1:
        # a batch the bank reports without amounts per detail: one movement, all purposes
        joined = " / ".join(p for p in (_purpose(d, ns) for d in details) if p)
        return [(details[0], entry_amount, 0, joined)]
    return [(details[0] if details else None, entry_amount, 0, None)]


def _detail_transaction(entry, head: _EntryHead, part: tuple, ns: dict) -> BankTransaction:
    """The transaction of one part of :func:`_entry_parts`."""
    detail, (value, currency), position, purpose_override = part
    sign_text = _text(detail, "c:CdtDbtInd", ns) or head.indicator
    signed = value if sign_text == "CRDT" else -value
    name, iban = _party(detail, "Dbtr" if sign_text == "CRDT" else "Cdtr", ns)
    purpose = _detail_purpose(entry, detail, purpose_override, ns)
    end_to_end = _text(detail, "c:Refs/c:EndToEndId", ns)
    if end_to_end.upper() == "NOTPROVIDED":
        end_to_end = ""
    own_reference = head.reference or _text(detail, "c:Refs/c:AcctSvcrRef", ns)
    return BankTransaction(
        key=bank_key(
            head.account,
            own_reference,
            head.booking,
            signed,
            currency,
            name,
            iban,
            purpose,
            position=position if head.reference else 0,
        ),
        account=head.account,
        booking_date=head.booking,
        value_date=head.value_date,
        amount=signed,
        currency=currency,
        counterparty_name=name,
        counterparty_iban=iban,
        purpose=purpose,
        end_to_end_id=end_to_end,
        entry_reference=own_reference,
        kind=head.kind,
        raw=head.raw,
    )


def _detail_purpose(entry, detail, purpose_override: str | None, ns: dict) -> str:
    purpose = purpose_override if purpose_override is not None else _purpose(detail, ns)
    if not purpose and detail is None:
        purpose = _text(entry, "c:AddtlNtryInf", ns)
    return purpose


def _detail_amount(detail, ns: dict) -> tuple[Decimal, str] | None:
    """Amount of one TxDtls: ``Amt`` (08) or ``AmtDtls/TxAmt/Amt`` (02)."""
    found = _amount(detail, ns)
    if found is None:
        tx_amt = detail.find("c:AmtDtls/c:TxAmt", ns)
        found = _amount(tx_amt, ns) if tx_amt is not None else None
    return found

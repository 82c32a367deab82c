"""Delivery orders as XML for carriers and fulfilment providers.

The generic document (``schemas/delivery_order_v1.xsd``) holds one or more deliveries::

    <DeliveryOrders version="1" shipper="ACME">
      <Delivery reference="WH/OUT/00001">
        <OrderReference>S00042</OrderReference>
        <Recipient>...</Recipient>
        <Lines><Line>...</Line></Lines>
        ...
      </Delivery>
    </DeliveryOrders>

A profile whose carrier wants other element names or extra fields gives an
:class:`XmlMapping` (applied after the generic document is built) and its own XSD.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import xmlschema
from lxml import etree

from ...mail_crm_shop.services.errors import PermanentError

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
GENERIC_XSD = SCHEMA_DIR / "delivery_order_v1.xsd"
FORMAT_VERSION = "1"
MAX_REPORTED_ERRORS = 5


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where the parcel goes. ``country`` is the ISO 3166-1 alpha-2 code."""

    name: str
    street: str
    zip: str
    city: str
    country: str
    email: str = ""
    phone: str = ""
    company: str = ""
    street2: str = ""
    packstation: bool = False
    post_number: str = ""  # DHL "Postnummer", required for a Packstation/Postfiliale


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    """One product of the delivery."""

    sku: str
    name: str
    quantity: Decimal
    weight_kg: Decimal = Decimal(0)  # per unit
    ean: str = ""


@dataclass(frozen=True, slots=True)
class Parcel:
    """One physical parcel (optional: the provider packs when none is given)."""

    reference: str
    weight_kg: Decimal


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery order (an outgoing ``stock.picking``)."""

    reference: str
    order_reference: str
    recipient: Recipient
    lines: tuple[DeliveryLine, ...]
    parcels: tuple[Parcel, ...] = ()
    services: tuple[str, ...] = ()  # carrier service codes, e.g. "SIGNATURE", "SATURDAY"
    cod_amount: Decimal | None = None  # cash on delivery
    cod_currency: str = ""
    shipping_date: date | None = None
    note: str = ""

    @property
    def total_weight_kg(self) -> Decimal:
        """Weight of the goods (sum of line weights)."""
        return sum((line.weight_kg * line.quantity for line in self.lines), Decimal(0))


@dataclass(frozen=True, slots=True)
class XmlMapping:
    """A carrier's variant of the generic document, applied after it is built.

    ``values``: ``(path, template)`` pairs. ``path`` is a ``/``-separated element path
    below each ``Delivery`` in *generic* names (``"Recipient/Name"``, ``"Extra/Customer"``);
    missing elements are created, the text is replaced. ``template`` may use the
    placeholders of :data:`TEMPLATE_FIELDS` in braces, e.g. ``"{shipper}-{reference}"``.
    An empty template removes the element.

    ``renames``: ``(generic_tag, carrier_tag)`` pairs, applied last on the whole
    document, e.g. ``(("Zip", "PLZ"), ("City", "Ort"))``.
    """

    values: tuple[tuple[str, str], ...] = ()
    renames: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping) -> XmlMapping:
        """Build from ``{"values": {path: template}, "renames": {old: new}}`` (JSON-able)."""
        unknown = set(data) - {"values", "renames"}
        if unknown:
            raise PermanentError(f"mapping: unknown keys {sorted(unknown)}")
        return cls(
            values=tuple((str(k), str(v)) for k, v in dict(data.get("values") or {}).items()),
            renames=tuple((str(k), str(v)) for k, v in dict(data.get("renames") or {}).items()),
        )


TEMPLATE_FIELDS = (
    "reference",
    "order_reference",
    "shipper",
    "recipient_name",
    "recipient_company",
    "recipient_street",
    "recipient_street2",
    "recipient_zip",
    "recipient_city",
    "recipient_country",
    "recipient_email",
    "recipient_phone",
    "post_number",
    "cod_amount",
    "cod_currency",
    "shipping_date",
    "line_count",
    "total_weight_kg",
    "note",
)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _qty(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _weight(value: Decimal) -> str:
    return f"{value:.3f}"


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _check(delivery: Delivery) -> None:
    ref = delivery.reference
    if not ref.strip():
        raise PermanentError("delivery: reference is empty")
    rcp = delivery.recipient
    for label in ("name", "street", "zip", "city"):
        if not getattr(rcp, label).strip():
            raise PermanentError(f"delivery {ref}: recipient {label} is empty")
    if not _COUNTRY.match(rcp.country):
        raise PermanentError(
            f"delivery {ref}: recipient country {rcp.country!r} is not an ISO code"
        )
    if rcp.packstation and not rcp.post_number.strip():
        raise PermanentError(f"delivery {ref}: a Packstation address needs the post number")
    if not delivery.lines:
        raise PermanentError(f"delivery {ref}: no lines")
    for line in delivery.lines:
        if not line.sku.strip():
            raise PermanentError(f"delivery {ref}: a line has no SKU")
        if line.quantity <= 0:
            raise PermanentError(f"delivery {ref}: quantity of {line.sku} must be > 0")
        if line.weight_kg < 0:
            raise PermanentError(f"delivery {ref}: weight of {line.sku} must be >= 0")
    for parcel in delivery.parcels:
        if parcel.weight_kg <= 0:
            raise PermanentError(f"delivery {ref}: parcel {parcel.reference} weight must be > 0")
    if delivery.cod_amount is not None:
        if delivery.cod_amount <= 0:
            raise PermanentError(f"delivery {ref}: cash on delivery amount must be > 0")
        if not _CURRENCY.match(delivery.cod_currency):
            raise PermanentError(f"delivery {ref}: cash on delivery needs a currency code")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrib) -> etree._Element:
    try:
        node = etree.SubElement(parent, tag, attrib)
        if text is not None:
            node.text = text
    except ValueError as exc:  # control characters, NUL: not representable in XML
        raise PermanentError(f"{tag}: {exc} in {(text or str(attrib))[:60]!r}") from exc
    return node


def _append_delivery(
    root: etree._Element, delivery: Delivery, pdf: bytes | None = None
) -> etree._Element:
    _check(delivery)
    node = _sub(root, "Delivery", reference=delivery.reference)
    _sub(node, "OrderReference", delivery.order_reference)
    if delivery.shipping_date:
        _sub(node, "ShippingDate", delivery.shipping_date.isoformat())
    _append_recipient(node, delivery.recipient)
    _append_lines(node, delivery.lines)
    _append_parcels(node, delivery.parcels)
    _append_services(node, delivery.services)
    if delivery.cod_amount is not None:
        _sub(node, "CashOnDelivery", _money(delivery.cod_amount), currency=delivery.cod_currency)
    if delivery.note:
        _sub(node, "Note", delivery.note)
    if pdf is not None:
        _sub(node, "DeliveryNotePdf", base64.b64encode(pdf).decode("ascii"))
    return node


def _append_recipient(node: etree._Element, rcp: Recipient) -> None:
    """``Recipient``: the address; optional parts only when filled."""
    rnode = _sub(node, "Recipient")
    _sub(rnode, "Name", rcp.name)
    if rcp.company:
        _sub(rnode, "Company", rcp.company)
    _sub(rnode, "Street", rcp.street)
    if rcp.street2:
        _sub(rnode, "Street2", rcp.street2)
    _sub(rnode, "Zip", rcp.zip)
    _sub(rnode, "City", rcp.city)
    _sub(rnode, "Country", rcp.country)
    if rcp.email:
        _sub(rnode, "Email", rcp.email)
    if rcp.phone:
        _sub(rnode, "Phone", rcp.phone)
    if rcp.packstation:
        _sub(rnode, "Packstation", postNumber=rcp.post_number)


def _append_lines(node: etree._Element, lines: tuple[DeliveryLine, ...]) -> None:
    """``Lines``: one ``Line`` per product (``_check`` refuses a delivery without)."""
    lines_node = _sub(node, "Lines")
    for line in lines:
        lnode = _sub(lines_node, "Line")
        _sub(lnode, "Sku", line.sku)
        if line.ean:
            _sub(lnode, "Ean", line.ean)
        _sub(lnode, "Name", line.name)
        _sub(lnode, "Quantity", _qty(line.quantity))
        _sub(lnode, "WeightKg", _weight(line.weight_kg))


def _append_parcels(node: etree._Element, parcels: tuple[Parcel, ...]) -> None:
    """``Parcels``, only when the delivery gives any (else the provider packs)."""
    if not parcels:
        return
    parcels_node = _sub(node, "Parcels")
    for parcel in parcels:
        pnode = _sub(parcels_node, "Parcel", reference=parcel.reference)
        _sub(pnode, "WeightKg", _weight(parcel.weight_kg))


def _append_services(node: etree._Element, services: tuple[str, ...]) -> None:
    """``Services``: the carrier service codes, only when there are any."""
    if not services:
        return
    services_node = _sub(node, "Services")
    for code in services:
        _sub(services_node, "Service", code=code)


def template_values(delivery: Delivery, shipper_code: str) -> dict[str, str]:
    """The placeholders a mapping template may use, for ``delivery``."""
    rcp = delivery.recipient
    return {
        "reference": delivery.reference,
        "order_reference": delivery.order_reference,
        "shipper": shipper_code,
        "recipient_name": rcp.name,
        "recipient_company": rcp.company,
        "recipient_street": rcp.street,
        "recipient_street2": rcp.street2,
        "recipient_zip": rcp.zip,
        "recipient_city": rcp.city,
        "recipient_country": rcp.country,
        "recipient_email": rcp.email,
        "recipient_phone": rcp.phone,
        "post_number": rcp.post_number,
        "cod_amount": "" if delivery.cod_amount is None else _money(delivery.cod_amount),
        "cod_currency": delivery.cod_currency,
        "shipping_date": delivery.shipping_date.isoformat() if delivery.shipping_date else "",
        "line_count": str(len(delivery.lines)),
        "total_weight_kg": _weight(delivery.total_weight_kg),
        "note": delivery.note,
    }


def render_template(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{field}`` placeholders; an unknown field is a :class:`PermanentError`."""

    def replace(match: re.Match) -> str:
        key = match.group(1)
        if key not in values:
            raise PermanentError(f"mapping: unknown placeholder {{{key}}}")
        return values[key]

    return _PLACEHOLDER.sub(replace, template)


def check_mapping(mapping: XmlMapping) -> None:
    """Reject a mapping with a bad path, tag or placeholder before any delivery is built."""
    dummy = dict.fromkeys(TEMPLATE_FIELDS, "")
    for path, template in mapping.values:
        parts = path.split("/")
        if not path or not all(_TAG.match(p) for p in parts):
            raise PermanentError(f"mapping: invalid path {path!r}")
        render_template(template, dummy)
    for old, new in mapping.renames:
        if not (_TAG.match(old) and _TAG.match(new)):
            raise PermanentError(f"mapping: invalid rename {old!r} -> {new!r}")


def _apply_values(node: etree._Element, mapping: XmlMapping, values: dict[str, str]) -> None:
    for path, template in mapping.values:
        parts = path.split("/")
        parent = node
        for part in parts[:-1]:
            child = parent.find(part)
            parent = child if child is not None else etree.SubElement(parent, part)
        target = parent.find(parts[-1])
        if not template:
            if target is not None:
                parent.remove(target)
            continue
        if target is None:
            target = etree.SubElement(parent, parts[-1])
        try:
            target.text = render_template(template, values)
        except ValueError as exc:
            raise PermanentError(f"mapping {path}: {exc}") from exc


def _apply_renames(root: etree._Element, mapping: XmlMapping) -> None:
    renames = dict(mapping.renames)
    if not renames:
        return
    for element in root.iter():
        new = renames.get(element.tag)
        if new:
            element.tag = new


def build_batch_xml(
    deliveries: Iterable[Delivery],
    shipper_code: str,
    mapping: XmlMapping | None = None,
    embedded_pdfs: Mapping[str, bytes] | None = None,
) -> bytes:
    """Return one UTF-8 document holding all ``deliveries`` (in order).

    ``embedded_pdfs`` (delivery reference -> PDF bytes) adds each delivery note as a
    base64 ``DeliveryNotePdf`` element (file format "xml_pdf", embedded variant).

    Raises :class:`PermanentError` naming the delivery when its data cannot be sent
    (empty reference or address, no lines, quantity <= 0, Packstation without post
    number, cash on delivery without currency, bad mapping). An empty batch is refused.
    """
    if not shipper_code.strip():
        raise PermanentError("shipper code is empty")
    if mapping is not None:
        check_mapping(mapping)
    root = etree.Element("DeliveryOrders", version=FORMAT_VERSION, shipper=shipper_code)
    count = 0
    seen: set[str] = set()
    for delivery in deliveries:
        if delivery.reference in seen:
            raise PermanentError(f"delivery {delivery.reference}: twice in one batch")
        seen.add(delivery.reference)
        pdf = embedded_pdfs.get(delivery.reference) if embedded_pdfs else None
        node = _append_delivery(root, delivery, pdf)
        if mapping is not None and mapping.values:
            _apply_values(node, mapping, template_values(delivery, shipper_code))
        count += 1
    if not count:
        raise PermanentError("no delivery to send")
    if mapping is not None:
        _apply_renames(root, mapping)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_delivery_xml(
    delivery: Delivery,
    shipper_code: str,
    mapping: XmlMapping | None = None,
    embedded_pdf: bytes | None = None,
) -> bytes:
    """Return the UTF-8 document (with XML declaration) for one ``delivery``."""
    pdfs = {delivery.reference: embedded_pdf} if embedded_pdf is not None else None
    return build_batch_xml([delivery], shipper_code, mapping, pdfs)


@lru_cache(maxsize=16)
def _load_schema_cached(path: str, mtime_ns: int) -> xmlschema.XMLSchema:
    try:
        # "sandbox": includes/imports only from the schema's own folder, never the network
        return xmlschema.XMLSchema(path, allow="sandbox", defuse="always")
    except (xmlschema.XMLSchemaException, etree.LxmlError, OSError, SyntaxError) as exc:
        raise PermanentError(f"schema {Path(path).name} cannot be loaded: {exc}") from exc


def load_schema(xsd_path: str | Path = GENERIC_XSD) -> xmlschema.XMLSchema:
    """Return the (cached) schema at ``xsd_path``; a broken schema is a PermanentError."""
    path = Path(xsd_path).resolve()
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise PermanentError(f"schema {path.name} cannot be read: {exc}") from exc
    return _load_schema_cached(str(path), mtime)


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One reason the document is refused."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


_SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


def schema_violations(
    payload: bytes, schema: xmlschema.XMLSchema, limit: int = MAX_REPORTED_ERRORS
) -> list[SchemaViolation]:
    """Return up to ``limit`` violations of ``payload`` against ``schema`` (empty: valid)."""
    try:
        root = etree.fromstring(payload, _SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        return [SchemaViolation("/", f"not well-formed XML: {exc}")]
    found: list[SchemaViolation] = []
    # the document is already parsed: nothing is fetched for it, whatever it says
    resource = xmlschema.XMLResource(root, allow="none")
    for error in schema.iter_errors(resource):
        found.append(SchemaViolation(error.path or "/", error.reason or str(error.message)))
        if len(found) >= limit:
            break
    return found


def validate_xml(payload: bytes, xsd_path: str | Path | xmlschema.XMLSchema = GENERIC_XSD) -> None:
    """Raise :class:`PermanentError` (``"path: reason; ..."``) unless ``payload`` is valid.

    ``xsd_path`` is a file (loaded once and cached) or an already built schema.
    """
    schema = xsd_path if isinstance(xsd_path, xmlschema.XMLSchema) else load_schema(xsd_path)
    violations = schema_violations(payload, schema)
    if violations:
        raise PermanentError("; ".join(str(v) for v in violations))

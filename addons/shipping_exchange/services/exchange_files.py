"""The files one exchange profile sends for a delivery (or a batch of deliveries).

``file_format`` as on the profile: ``"xml"``, ``"pdf"`` or ``"xml_pdf"``; for
``"xml_pdf"`` the PDF travels as a second file of the same stem, or inside the XML
(``embed_pdf=True``, element ``DeliveryNotePdf``). XML is always validated before it is
returned, against the profile's own XSD if it has one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import xmlschema

from ...mail_crm_shop.services.errors import PermanentError
from .delivery_pdf import build_batch_pdf
from .delivery_xml import GENERIC_XSD, Delivery, XmlMapping, build_batch_xml, validate_xml

FILE_FORMATS = ("xml", "pdf", "xml_pdf")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class ExchangeFile:
    """One file to hand to a transport."""

    name: str
    content: bytes


def file_stem(reference: str) -> str:
    """A file name stem from a delivery reference: ``"WH/OUT/00001"`` -> ``"WH-OUT-00001"``."""
    stem = _UNSAFE.sub("-", reference).strip("-")
    if not stem:
        raise PermanentError(f"no file name can be made from {reference!r}")
    return stem[:200]


def build_exchange_files(
    deliveries: Sequence[Delivery],
    file_format: str,
    shipper_code: str,
    stem: str = "",
    mapping: XmlMapping | None = None,
    xsd: str | Path | xmlschema.XMLSchema = GENERIC_XSD,
    embed_pdf: bool = False,
) -> tuple[ExchangeFile, ...]:
    """Return the files for ``deliveries`` in the profile's ``file_format``.

    ``stem`` defaults to the first delivery's reference (one delivery per file) or must
    be given for a batch. Any data problem is a :class:`PermanentError`.
    """
    if file_format not in FILE_FORMATS:
        raise PermanentError(f"unknown file format {file_format!r}")
    if not deliveries:
        raise PermanentError("no delivery to send")
    if not stem:
        if len(deliveries) > 1:
            raise PermanentError("a batch needs a file name stem")
        stem = file_stem(deliveries[0].reference)
    else:
        stem = file_stem(stem)
    files = []
    pdf = build_batch_pdf(deliveries) if file_format in ("pdf", "xml_pdf") else None
    if file_format in ("xml", "xml_pdf"):
        embedded = None
        if embed_pdf and file_format == "xml_pdf":
            # one delivery note per delivery inside its own Delivery element
            embedded = {d.reference: build_batch_pdf([d]) for d in deliveries}
            pdf = None
        payload = build_batch_xml(deliveries, shipper_code, mapping, embedded)
        validate_xml(payload, xsd)
        files.append(ExchangeFile(f"{stem}.xml", payload))
    if pdf is not None:
        files.append(ExchangeFile(f"{stem}.pdf", pdf))
    return tuple(files)

#!/usr/bin/env python3
"""Refresh the translation templates and merge them into the German catalogues.

Installs the four addons into a scratch database (no demo data), exports each addon's
``i18n/<addon>.pot`` with Odoo's own exporter, then merges it into ``i18n/de.po``:
existing translations are kept, new terms are added untranslated, vanished terms are
dropped. Prints the untranslated terms per addon. Needs Odoo 19.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from backoffice import (
    ADDONS,
    ROOT,
    drop_database,
    odoo_addons_path,
    odoo_command,
    write_odoo_config,
)

DB = "shop_backoffice_i18n"


def export_templates(addons: tuple[str, ...] = ADDONS) -> None:
    drop_database(DB)
    subprocess.run(
        odoo_command(
            "-d",
            DB,
            "-i",
            ",".join(addons),
            "--stop-after-init",
            "--http-interface",
            "127.0.0.1",
            "--log-level",
            "warn",
        ),
        check=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        config = write_odoo_config(Path(tmp) / "odoo.conf")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "odoo",
                "i18n",
                "export",
                "-c",
                str(config),
                "-d",
                DB,
                *addons,
                "-l",
                "pot",
            ],
            check=True,
            cwd="/",
        )
    drop_database(DB)


def odoo_glossary() -> dict[str, str]:
    """German wording Odoo itself uses, so identical terms read the same everywhere."""
    glossary: dict[str, str] = {}
    for folder in odoo_addons_path().split(","):
        if Path(folder).resolve() == (ROOT / "addons").resolve():
            continue
        for po_path in sorted(Path(folder).glob("*/i18n/de.po")):
            for entry in polib.pofile(str(po_path)):
                if entry.msgstr and "fuzzy" not in entry.flags:
                    glossary.setdefault(entry.msgid, entry.msgstr)
    return glossary


def merge(addon: str, glossary: dict[str, str]) -> list[str]:
    i18n = ROOT / "addons" / addon / "i18n"
    template = polib.pofile(str(i18n / f"{addon}.pot"))
    po_path = i18n / "de.po"
    old = polib.pofile(str(po_path)) if po_path.exists() else polib.POFile()
    known = {(e.msgctxt, e.msgid): e.msgstr for e in old}
    catalog = polib.POFile(wrapwidth=78)
    catalog.metadata = {
        "Project-Id-Version": "Odoo Server 19.0",
        "Language": "de",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": "nplurals=2; plural=(n != 1);",
    }
    for entry in template:
        entry.msgstr = known.get((entry.msgctxt, entry.msgid)) or glossary.get(entry.msgid, "")
        catalog.append(entry)
    catalog.save(str(po_path))
    return [e.msgid for e in catalog if not e.msgstr]


def main() -> int:
    args = sys.argv[1:]
    addons = ADDONS
    if "--only" in args:  # e.g. --only mail_crm_shop,review_request
        addons = tuple(args[args.index("--only") + 1].split(","))
    if "--merge-only" not in args:
        export_templates(addons)
    missing_total = 0
    glossary = odoo_glossary()
    for addon in addons:
        missing = merge(addon, glossary)
        missing_total += len(missing)
        print(f"{addon}: {len(missing)} untranslated")
        for msgid in missing:
            print(f"    {msgid!r}")
    return 1 if missing_total else 0


if __name__ == "__main__":
    sys.exit(main())

"""German catalogues: present, well-formed, complete against the exported templates.

The Odoo suite additionally checks that every term Odoo would export for an addon is
translated (``i18n_check.untranslated_terms``); this layer needs no Odoo.
"""

import re

import polib
import pytest

from ..conftest import ADDONS, ADDONS_DIR

PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sdfr]|\{[a-z_0-9]*\}")


def _catalog(addon):
    return polib.pofile(str(ADDONS_DIR / addon / "i18n" / "de.po"))


@pytest.mark.parametrize("addon", ADDONS)
def test_catalogue_is_german_and_has_no_fuzzy_or_empty_entry(addon):
    catalog = _catalog(addon)
    assert catalog.metadata.get("Language") == "de"
    assert len(catalog) > 0
    assert [e.msgid for e in catalog if "fuzzy" in e.flags] == []
    assert [e.msgid for e in catalog if not e.msgstr.strip()] == []


@pytest.mark.parametrize("addon", ADDONS)
def test_catalogue_covers_the_template(addon):
    template = polib.pofile(str(ADDONS_DIR / addon / "i18n" / f"{addon}.pot"))
    translated = {(e.msgctxt, e.msgid) for e in _catalog(addon)}
    missing = [e.msgid for e in template if (e.msgctxt, e.msgid) not in translated]
    assert missing == []


@pytest.mark.parametrize("addon", ADDONS)
def test_translations_keep_the_placeholders(addon):
    wrong = [
        (e.msgid, e.msgstr)
        for e in _catalog(addon)
        if e.msgstr
        and sorted(PLACEHOLDER.findall(e.msgid)) != sorted(PLACEHOLDER.findall(e.msgstr))
    ]
    assert wrong == []

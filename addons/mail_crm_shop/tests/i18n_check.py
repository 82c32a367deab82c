"""Shared check: every user-facing term of an addon has a German translation."""

import polib

from odoo.modules.module import get_module_path
from odoo.tools.translate import TranslationModuleReader


def untranslated_terms(env, module, lang="de"):
    """Terms Odoo would export for ``module`` that ``i18n/<lang>.po`` leaves untranslated."""
    po_path = f"{get_module_path(module)}/i18n/{lang}.po"
    catalog = polib.pofile(po_path)
    translated = {
        entry.msgid for entry in catalog if entry.msgstr.strip() and "fuzzy" not in entry.flags
    }
    reader = TranslationModuleReader(env.cr, modules=[module])
    missing = set()
    for term_module, _ttype, name, _res_id, source, _value, _comments in reader:
        if term_module == module and source.strip() and source not in translated:
            missing.add(f"{name}: {source!r}")
    return sorted(missing)

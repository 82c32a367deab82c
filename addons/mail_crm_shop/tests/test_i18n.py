from odoo.tests import TransactionCase, tagged

from .i18n_check import untranslated_terms


@tagged("post_install", "-at_install")
class TestGermanTranslation(TransactionCase):
    def test_every_term_has_a_german_translation(self):
        self.assertEqual(untranslated_terms(self.env, "mail_crm_shop"), [])

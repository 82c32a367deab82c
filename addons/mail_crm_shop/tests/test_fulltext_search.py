import io

from markupsafe import Markup
from reportlab.pdfgen import canvas

from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import MailCrmShopCase


def _pdf(*lines):
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for number, line in enumerate(lines):
        pdf.drawString(72, 720 - 20 * number, line)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@tagged("post_install", "-at_install")
class TestFulltextSearch(MailCrmShopCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Case = cls.env["crm.shop.case"]
        cls.Document = cls.env["crm.shop.search.document"]

    def _find(self, text, user=None):
        cases = self.Case.with_user(user) if user else self.Case
        return cases.search([("fulltext", "ilike", text)])

    def _search(self, text, user=None):
        form = Form(self.env["crm.shop.search"].with_user(user or self.env.user))
        form.query = text
        wizard = form.save()
        wizard.action_search()
        return wizard.line_ids

    def _post_mail(self, case, body, **kwargs):
        return case.message_post(
            body=Markup(body), message_type="email", subtype_xmlid="mail.mt_comment", **kwargs
        )

    def _documents(self, case, kind=None):
        domain = [("case_id", "=", case.id)] + ([("kind", "=", kind)] if kind else [])
        return self.Document.search(domain)

    def test_case_found_by_its_title_and_after_a_rename(self):
        case = self._create_case(name="Kaffeemaschine tropft")
        self.assertEqual(self._find("Kaffeemaschine"), case)
        self.assertEqual(self._find(case.number), case)
        case.name = "Teekanne zerbrochen"
        self.assertFalse(self._find("Kaffeemaschine"))
        self.assertEqual(self._find("Teekanne"), case)

    def test_case_found_by_a_word_in_a_mail_body(self):
        case = self._create_case()
        self._create_case(name="Another case")
        self._post_mail(case, "<p>Meine <b>Espressomaschine</b> ist kaputt.</p>")
        self.assertEqual(self._find("espressomaschine"), case)
        self.assertEqual(self._documents(case, "mail").text, "Meine Espressomaschine ist kaputt.")

    def test_case_found_by_an_internal_note(self):
        case = self._create_case()
        case.message_post(body="Kunde ist Stammkunde, Kulanz prüfen", subtype_xmlid="mail.mt_note")
        self.assertEqual(self._find("Kulanz"), case)
        self.assertTrue(self._documents(case, "note"))

    def test_case_found_by_a_phone_note_indexed_once(self):
        case = self._create_case()
        note = self.env["crm.shop.phone.note"].create(
            {"case_id": case.id, "caller": "Frau Berger", "note": "Paket beim Nachbarn abgegeben"}
        )
        self.assertEqual(self._find("Nachbarn"), case)
        self.assertEqual(len(self._documents(case).filtered(lambda d: "Nachbarn" in d.text)), 1)
        note.note = "Paket in der Packstation"
        self.assertFalse(self._find("Nachbarn"))
        self.assertEqual(self._find("Packstation"), case)

    def test_case_found_by_the_text_of_a_pdf_attachment(self):
        case = self._create_case()
        pdf = _pdf("Lieferschein 4711", "Seriennummer XK-99 Waschmaschine")
        self._post_mail(case, "<p>Anbei der Beleg</p>", attachments=[("beleg.pdf", pdf)])
        self.assertEqual(self._find("Waschmaschine"), case)
        attachment = self._documents(case, "attachment")
        self.assertIn("beleg.pdf", attachment.text)
        attachment_record = self.env["ir.attachment"].browse(attachment.res_id)
        attachment_record.unlink()
        self.assertFalse(self._find("Waschmaschine"))

    def test_unreadable_pdf_is_found_by_its_name_and_does_not_block_the_mail(self):
        case = self._create_case()
        with mute_logger("pypdf"):  # pypdf warns about the junk, as it should
            self._post_mail(
                case, "<p>Scan</p>", attachments=[("kaputt-scan.pdf", b"%PDF-1.4 junk")]
            )
        self.assertEqual(self._documents(case, "attachment").text, "kaputt-scan.pdf")
        self.assertEqual(self._find("Scan"), case)

    def test_search_bar_offers_the_full_text_field(self):
        arch = self.Case.get_views([(False, "search")])["views"]["search"]["arch"]
        self.assertIn('name="fulltext"', arch)

    def test_german_and_english_stemming(self):
        german = self._create_case(name="Frage")
        self._post_mail(german, "<p>Die Rechnung ist nicht angekommen.</p>")
        english = self._create_case(name="Question")
        self._post_mail(english, "<p>The invoices were never delivered.</p>")
        self.assertEqual(self._find("Rechnungen"), german)
        self.assertEqual(self._find("invoice"), english)
        self.assertEqual(self._find("deliver"), english)
        self.assertEqual(self._find("rechnung or invoice"), german | english)
        self.assertEqual(self._find('"nicht angekommen"'), german)
        self.assertFalse(self._find("Rechnung -angekommen"))

    def test_results_ranked_best_first_with_escaped_highlighted_snippets(self):
        weak = self._create_case(name="Allgemeine Frage")
        self._post_mail(weak, "<p>" + "Viele Worte ohne Bezug. " * 20 + "Am Ende eine Retoure.</p>")
        strong = self._create_case(name="Retoure Retoure")
        self._post_mail(
            strong, "<p>Retoure: 5 &lt; 6, &lt;img src=x onerror=alert(1)&gt; Retoure</p>"
        )
        lines = self._search("Retoure")
        self.assertEqual(lines.case_id.ids, [strong.id, weak.id])
        self.assertGreater(lines[0].rank, lines[1].rank)
        snippets = " ".join(str(s) for s in lines.mapped("snippet"))
        self.assertIn("<mark>Retoure</mark>", snippets)
        self.assertNotIn("<img", snippets)
        self.assertIn("5 &lt; 6, &lt;img src=x onerror=alert(1)&gt;", snippets)

    def test_private_case_of_another_user_is_never_found(self):
        private = self._create_case(name="Persönlich", is_private=True, user_id=self.other_agent.id)
        self._post_mail(private, "<p>Geheimwort Zitronenbaum</p>")
        self.assertFalse(self._find("Zitronenbaum", user=self.agent))
        self.assertFalse(self._search("Zitronenbaum", user=self.agent))
        wizard = self.env["crm.shop.search"].with_user(self.agent).create({"query": "Zitronenbaum"})
        wizard.action_search()
        self.assertEqual((wizard.searched, wizard.result_count), (True, 0))
        self.assertEqual(self._find("Zitronenbaum", user=self.other_agent), private)
        self.assertEqual(self._search("Zitronenbaum", user=self.other_agent).case_id, private)
        self.assertEqual(self._search("Zitronenbaum", user=self.manager).case_id, private)

    def test_bounded_ranking_still_finds_readable_cases_behind_private_ones(self):
        own = self._create_case(name="Zitronenbaum")
        private = self._create_case(name="Persönlich", is_private=True, user_id=self.other_agent.id)
        self._post_mail(private, "<p>Zitronenbaum Zitronenbaum Zitronenbaum</p>")
        # window=1: the one candidate is the newest, best hit - the private case
        agent_hits = self.Document.with_user(self.agent)._ranked_cases("Zitronenbaum", 5, 1)
        self.assertEqual([hit[0] for hit in agent_hits], [own.id])
        manager_hits = self.Document.with_user(self.manager)._ranked_cases("Zitronenbaum", 5, 1)
        self.assertEqual([hit[0] for hit in manager_hits], [private.id, own.id])

    def test_index_follows_edit_and_delete_of_a_message(self):
        case = self._create_case()
        message = self._post_mail(case, "<p>Der Toaster brennt</p>")
        self.assertEqual(self._find("Toaster"), case)
        message.write({"body": "<p>Der Wasserkocher brennt</p>"})
        self.assertFalse(self._find("Toaster"))
        self.assertEqual(self._find("Wasserkocher"), case)
        message.unlink()
        self.assertFalse(self._find("Wasserkocher"))
        self.assertFalse(self._documents(case, "mail"))

    def test_deleting_a_case_drops_its_documents(self):
        case = self._create_case(name="Löschbar")
        self._post_mail(case, "<p>Staubsauger</p>")
        case.unlink()
        self.assertFalse(self.Document.search([("text", "ilike", "Staubsauger")]))

    def test_empty_search_is_refused_with_a_clear_error(self):
        with self.assertRaises(UserError):
            self._find("  -- ")
        with self.assertRaises(UserError):
            self._search('""')

    def test_backfill_indexes_pre_existing_data_then_stops(self):
        case = self._create_case(name="Altbestand")
        self._post_mail(case, "<p>Mixer</p>", attachments=[("a.txt", b"Bohrmaschine")])
        self.env["crm.shop.phone.note"].create(
            {"case_id": case.id, "caller": "Herr Alt", "note": "Rasenmaeher"}
        )
        self.Document.search([]).unlink()  # data from before the index existed
        self.assertFalse(self._find("Altbestand or Mixer or Bohrmaschine or Rasenmaeher"))
        cron = self.env.ref("mail_crm_shop.ir_cron_search_backfill")
        self.env["crm.shop.search"].with_user(self.manager).create({}).action_rebuild_index()
        self.assertTrue(cron.active)
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        for word in ("Altbestand", "Mixer", "Bohrmaschine", "Rasenmaeher"):
            self.assertEqual(self._find(word), case, word)
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()  # nothing left: the cron switches itself off
        self.assertFalse(cron.active)

    def test_only_managers_rebuild_the_index(self):
        wizard = self.env["crm.shop.search"].with_user(self.agent).create({})
        with self.assertRaises(UserError):
            wizard.action_rebuild_index()

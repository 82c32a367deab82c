from lxml import etree
from markupsafe import Markup

from odoo.tests import HttpCase, new_test_user, tagged

from .common import MailCrmShopCase

RANK = {"crm_shop_fulltext_rank": "Espressomaschine"}
# what the search bar puts in the context: the list of the facet's values ("self")
RANK_FROM_SEARCH_BAR = {"crm_shop_fulltext_rank": ["Espressomaschine"]}
DOMAIN = [("fulltext", "ilike", "Espressomaschine")]


class FulltextRankCase(MailCrmShopCase):
    """Four cases; the order of the matches by rank is the reverse of the usual one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # created first (lowest id): last in the usual order, but the best match
        cls.best = cls._create_case(name="Defekt")
        cls.best.message_post(
            body=Markup(
                "<p>Die Espressomaschine tropft, die Espressomaschine brummt, "
                "die Espressomaschine ist neu.</p>"
            ),
            message_type="email",
            subtype_xmlid="mail.mt_comment",
        )
        cls.middle = cls._create_case(name="Espressomaschine: Rechnung für Espressomaschine")
        cls.weak = cls._create_case(name="Rücksendung")
        cls.weak.message_post(
            body=Markup(
                "<p>Ich schicke den Wasserkocher zurück, den ich zusammen mit einer "
                "anderen Maschine bestellt habe, und frage mich, ob die Rücksendung der "
                "Ware inzwischen angekommen ist; die Espressomaschine behalte ich.</p>"
            ),
            message_type="email",
            subtype_xmlid="mail.mt_comment",
        )
        cls.unrelated = cls._create_case(name="Teekanne zerbrochen")


@tagged("post_install", "-at_install")
class TestFulltextRankInSearchBar(FulltextRankCase):
    def test_full_text_filter_lists_best_first(self):
        Case = self.env["crm.shop.case"]
        self.assertEqual(Case.search(DOMAIN).ids, [self.weak.id, self.middle.id, self.best.id])
        ranked = Case.with_context(**RANK).search(DOMAIN)
        self.assertEqual(ranked.ids, [self.best.id, self.middle.id, self.weak.id])

    def test_list_view_request_is_ranked_and_paged(self):
        """As the web client asks: web_search_read without an order, one page at a time."""
        Case = self.env["crm.shop.case"].with_user(self.agent).with_context(**RANK_FROM_SEARCH_BAR)
        page = Case.web_search_read(DOMAIN, {"display_name": {}}, limit=2, order="")
        self.assertEqual([r["id"] for r in page["records"]], [self.best.id, self.middle.id])
        self.assertEqual(page["length"], 3)
        rest = Case.web_search_read(DOMAIN, {"display_name": {}}, offset=2, limit=2, order="")
        self.assertEqual([r["id"] for r in rest["records"]], [self.weak.id])

    def test_a_column_the_user_sorts_by_wins(self):
        Case = self.env["crm.shop.case"].with_context(**RANK)
        self.assertEqual(
            Case.search(DOMAIN, order="id asc").ids, [self.best.id, self.middle.id, self.weak.id]
        )
        self.assertEqual(
            Case.search(DOMAIN, order="id desc").ids, [self.weak.id, self.middle.id, self.best.id]
        )

    def test_search_bar_field_sets_the_ranking_context(self):
        view = self.env["crm.shop.case"].get_view(view_type="search")
        field = etree.fromstring(view["arch"]).xpath("//field[@name='fulltext']")[0]
        self.assertIn("crm_shop_fulltext_rank", field.get("context"))
        self.assertIn("self", field.get("context"))


@tagged("post_install", "-at_install")
class TestFulltextRankTour(HttpCase, FulltextRankCase):
    """The search bar in a real browser: "Full text" lists the best match first."""

    def test_full_text_search_bar_lists_best_first(self):
        agent = new_test_user(
            self.env, "rank_agent", groups="mail_crm_shop.group_user", name="Rita Rank"
        )
        self.queue.member_ids |= agent
        self.start_tour("/odoo", "mail_crm_shop_fulltext_rank", login=agent.login)

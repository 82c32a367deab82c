from unittest.mock import patch

from odoo.tests import tagged

from .test_mail_ingest import MailIngestCommon, read_mail

CUSTOMER = "=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen.Mueller@Example.DE>"


@tagged("post_install", "-at_install")
class TestOrderReference(MailIngestCommon):
    """A mail opening a case that quotes one of the sender's orders is linked to it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.order = cls._create_sale_order(cls.customer, confirm=False)
        cls.other_customer = cls._create_partner(name="Otto Andere", email="otto@example.org")
        cls.other_order = cls._create_sale_order(cls.other_customer, confirm=False)

    def _mail(self, subject, body="Bitte um kurze Rückmeldung.", sender=CUSTOMER, variant="a"):
        address = sender.rpartition("<")[2].rstrip(">")
        return read_mail(
            "customer_order_question.eml",
            sender=sender,
            address=address,
            subject=subject,
            body=body,
            variant=variant,
        )

    def _receive_case(self, raw):
        inbound = self._receive(raw)
        self.assertEqual(inbound.state, "done", inbound.last_error)
        return inbound.case_id

    def test_mail_quoting_the_senders_order_name_links_the_order(self):
        case = self._receive_case(self._mail(f"Frage zu Bestellung {self.order.name}"))
        self.assertEqual(case.partner_id, self.customer)
        self.assertEqual(case.sale_order_id, self.order)
        self.assertIn(self.order, case.sale_order_ids)

    def test_order_quoted_in_the_body_of_a_colleague_of_the_same_company_is_linked(self):
        company = self._create_partner(name="Teehaus GmbH", email="info@teehaus.example")
        buyer = self._create_partner(
            name="Berta Einkauf", email="einkauf@teehaus.example", parent_id=company.id
        )
        colleague = self._create_partner(
            name="Carl Kollege", email="carl@teehaus.example", parent_id=company.id
        )
        order = self._create_sale_order(buyer, confirm=False)
        case = self._receive_case(
            self._mail(
                "Lieferung nicht komplett",
                body=f"unsere Bestellnummer: {order.name.lower()} kam ohne Deckel an.",
                sender="Carl Kollege <Carl@Teehaus.example>",
            )
        )
        self.assertEqual(case.partner_id, colleague)
        self.assertEqual(case.sale_order_id, order, "same commercial partner")

    def test_another_customers_order_is_not_linked(self):
        case = self._receive_case(self._mail(f"Bestellung {self.other_order.name}"))
        self.assertEqual(case.partner_id, self.customer)
        self.assertFalse(case.sale_order_id)

    def test_unknown_sender_with_the_orders_address_gets_it_linked(self):
        former = self._create_partner(name="Erika Neu", email="erika.neu@example.com")
        order = self._create_sale_order(former, confirm=False)
        former.action_archive()  # the sender is no known (active) contact any more
        stranger = self._receive_case(
            self._mail(f"Order {order.name}", sender="Somebody <somebody@example.net>", variant="b")
        )
        self.assertFalse(stranger.partner_id)
        self.assertFalse(stranger.sale_order_id, "another address: not this customer's order")
        case = self._receive_case(
            self._mail(f"Order {order.name}", sender="Erika Neu <Erika.Neu@EXAMPLE.com>")
        )
        self.assertFalse(case.partner_id)
        self.assertEqual(case.sale_order_id, order, "the order's address, any letter case")

    def test_several_quoted_orders_link_none(self):
        second = self._create_sale_order(self.customer, confirm=False)
        case = self._receive_case(
            self._mail(f"Bestellungen {self.order.name} und {second.name}", variant="b")
        )
        self.assertFalse(case.sale_order_id)
        case = self._receive_case(self._mail("Bestellung S99999 fehlt", variant="c"))
        self.assertFalse(case.sale_order_id, "an order name nobody has")

    def _count_processing(self, raw, feature=True):
        """Deliver and sync ``raw``, then return the queries of processing it (with the
        order lookup, or with it replaced by a no-op)."""
        self.server.deliver(raw)
        self._sync()
        Inbound = type(self.env["crm.shop.inbound.mail"])
        off = patch.object(
            Inbound,
            "_quoted_order",
            lambda mail, msg_dict, partner_id, batch=None: mail.env["sale.order"],
        )
        if not feature:
            off.start()
        try:
            count = self.cr.sql_log_count
            self._process()
            count = self.cr.sql_log_count - count
        finally:
            if not feature:
                off.stop()
        self.assertEqual(set(self._inbound().mapped("state")), {"done"})
        return count

    def test_mail_without_a_reference_costs_no_query_one_with_a_reference_one(self):
        Case = type(self.env["crm.shop.case"])
        calls = []
        original = Case._find_quoted_order

        def recording(model, references, *args, **kwargs):
            calls.append(references)
            return original(model, references, *args, **kwargs)

        self._count_processing(self._mail("Warm-up", variant="w"))  # caches filled
        with patch.object(Case, "_find_quoted_order", recording):
            with_lookup = self._count_processing(self._mail("Lieferzeit?", variant="b"))
            self.assertEqual(calls, [], "no reference: nothing looked up")
            without = self._count_processing(self._mail("Lieferzeit?", variant="c"), False)
            self.assertEqual(with_lookup, without, "a mail without reference costs nothing")
            quoted = self._count_processing(self._mail("Bestellung 4711123", variant="d"))
            self.assertEqual(calls, [("4711123",)])
            unquoted = self._count_processing(self._mail("Bestellung 4711124", variant="e"), False)
        self.assertEqual(quoted, unquoted + 1, "the candidates are resolved in one query")

    def test_a_batch_asks_once_which_senders_have_orders(self):
        """Several mails quoting numbers, processed together: the batch asks once which
        of its senders have any order; only those senders' mails are looked up."""
        former = self._create_partner(name="Erika Neu", email="erika.neu@example.com")
        archived_order = self._create_sale_order(former, confirm=False)
        former.action_archive()
        supplier = self._create_partner(name="Lieferant GmbH", email="lager@lieferant.example")
        mails = [
            self._mail(f"Bestellung {self.order.name}", variant="b"),  # the customer's order
            self._mail(
                f"Bestellung {self.order.name}",
                sender="Lieferant GmbH <lager@lieferant.example>",  # known, no order
                variant="c",
            ),
            self._mail(
                "Bestellung 4711125", sender="Somebody <somebody@example.net>", variant="d"
            ),  # unknown, no order
            self._mail(
                f"Order {archived_order.name}",
                sender="Erika Neu <erika.neu@example.com>",  # unknown, the order's address
                variant="e",
            ),
        ]
        for raw in mails:
            self.server.deliver(raw)
        self._sync()
        Case = type(self.env["crm.shop.case"])
        calls = []
        original = Case._find_quoted_order

        def recording(model, references, *args, **kwargs):
            calls.append(kwargs.get("partner_id") or kwargs.get("email"))
            return original(model, references, *args, **kwargs)

        with patch.object(Case, "_find_quoted_order", recording):
            self._process()
        inbound = self._inbound()
        self.assertEqual(set(inbound.mapped("state")), {"done"})
        cases = {
            mail.case_id.email_from.rpartition("<")[2].rstrip(">"): mail.case_id for mail in inbound
        }
        self.assertEqual(cases["Juergen.Mueller@Example.DE"].sale_order_id, self.order)
        self.assertEqual(cases["erika.neu@example.com"].sale_order_id, archived_order)
        self.assertFalse(cases["lager@lieferant.example"].sale_order_id, "not its order")
        self.assertEqual(cases["lager@lieferant.example"].partner_id, supplier)
        self.assertFalse(cases["somebody@example.net"].sale_order_id)
        self.assertEqual(
            sorted(calls, key=str),
            sorted([self.customer.id, "erika.neu@example.com"], key=str),
            "senders without any order are not looked up",
        )

    def test_follow_up_mails_leave_the_link_alone(self):
        second = self._create_sale_order(self.customer, confirm=False)
        case = self._receive_case(self._mail(f"Bestellung {self.order.name}"))
        self.assertEqual(case.sale_order_id, self.order)
        follow_up = self._receive_case(
            self._mail(f"Re: [#{case.number}] Bestellung {second.name}", variant="b")
        )
        self.assertEqual(follow_up, case)
        self.assertEqual(case.sale_order_id, self.order, "the case keeps its order")

        unlinked = self._receive_case(self._mail("Lieferzeit?", variant="c"))
        self.assertFalse(unlinked.sale_order_id)
        follow_up = self._receive_case(
            self._mail(f"Re: [#{unlinked.number}] Bestellung {second.name}", variant="d")
        )
        self.assertEqual(follow_up, unlinked)
        self.assertFalse(unlinked.sale_order_id, "only a mail opening a case links an order")

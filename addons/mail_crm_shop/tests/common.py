from odoo import fields
from odoo.tests import TransactionCase, new_test_user


class MailCrmShopCase(TransactionCase):
    """Builders for the team inbox tests; no demo data is assumed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, "inbox_manager", groups="mail_crm_shop.group_manager", name="Mia Manager"
        )
        cls.agent = new_test_user(
            cls.env, "inbox_agent", groups="mail_crm_shop.group_user", name="Anton Agent"
        )
        cls.other_agent = new_test_user(
            cls.env, "inbox_other", groups="mail_crm_shop.group_user", name="Olga Other"
        )
        cls.queue = cls._create_queue(member_ids=[cls.agent.id, cls.other_agent.id])

    @classmethod
    def _create_queue(cls, **overrides):
        vals = {"name": "Service", **overrides}
        return cls.env["crm.shop.queue"].create(vals)

    @classmethod
    def _create_case(cls, **overrides):
        vals = {"name": "Where is my parcel?", "queue_id": cls.queue.id, **overrides}
        return cls.env["crm.shop.case"].create(vals)

    @classmethod
    def _create_partner(cls, **overrides):
        vals = {"name": "Erika Muster", "email": "erika@example.com", **overrides}
        return cls.env["res.partner"].create(vals)

    @classmethod
    def _create_folder(cls, **overrides):
        vals = {"name": "Returns", **overrides}
        return cls.env["crm.shop.folder"].create(vals)

    @classmethod
    def _create_text_block(cls, **overrides):
        vals = {"name": "Parcel status", "body": "<p>Hello {{customer_name}}</p>", **overrides}
        return cls.env["crm.shop.text.block"].create(vals)

    @classmethod
    def _create_product(cls, **overrides):
        vals = {"name": "Teapot", "type": "consu", "list_price": 20.0}
        return cls.env["product.product"].create({**vals, **overrides})

    @classmethod
    def _create_sale_order(cls, partner, product=None, confirm=True, **overrides):
        product = product or cls._create_product()
        vals = {
            "partner_id": partner.id,
            "order_line": [
                fields.Command.create({"product_id": product.id, "product_uom_qty": 1}),
            ],
            **overrides,
        }
        order = cls.env["sale.order"].create(vals)
        if confirm:
            order.action_confirm()
        return order

    @classmethod
    def _create_invoice(cls, partner, amount=59.5, post=True, **overrides):
        vals = {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_line_ids": [
                fields.Command.create(
                    {
                        "name": "Teapot",
                        "quantity": 1,
                        "price_unit": amount,
                        "tax_ids": [fields.Command.clear()],
                    }
                ),
            ],
            **overrides,
        }
        invoice = cls.env["account.move"].create(vals)
        if post:
            invoice.action_post()
        return invoice

    @classmethod
    def _create_resource_calendar(cls, tz="Europe/Berlin", **overrides):
        """Mon-Fri 8-12 and 13-17 in ``tz``."""
        attendances = [
            fields.Command.create(
                {
                    "name": f"{day} {start}",
                    "dayofweek": str(day),
                    "hour_from": start,
                    "hour_to": end,
                    "day_period": period,
                }
            )
            for day in range(5)
            for start, end, period in ((8, 12, "morning"), (13, 17, "afternoon"))
        ]
        vals = {"name": "Office hours", "tz": tz, "attendance_ids": attendances, **overrides}
        return cls.env["resource.calendar"].create(vals)

    def _flush_tracking(self):
        """Write the pending tracking messages, as a commit would (records created in the
        same transaction are not tracked before that)."""
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.invalidate_all()

from odoo import api, models
from odoo.tools import SQL


class CrmShopCase(models.Model):
    _inherit = "crm.shop.case"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _order_reference_fields(self):
        """The ``sale.order`` fields a reference quoted by a customer may equal: the order
        name here; the shop connector adds the shop's own order number."""
        return ("name",)

    @api.private
    @api.model
    def _find_quoted_order(self, references, partner_id=None, email=None, company_id=None):
        """The one order ``references`` name that may safely be linked to a customer's case,
        or an empty recordset; one query.

        Safe means: the order belongs to the sender's contact ``partner_id`` (same
        commercial partner) or, when the sender is unknown, its customer's address is the
        sender's ``email`` (normalized, so case-insensitive). Several orders: none.

        Plain SQL on purpose: it runs for every incoming mail quoting a number, and the
        ORM's domain handling cost three times the query itself (the ingest benchmark).
        Orders are read as superuser anyway: the case is linked for the whole team.
        """
        Order = self.env["sale.order"].sudo()
        if not references or not (partner_id or email):
            return Order.browse()
        refs, columns = list(references), self._order_reference_fields()
        Order.flush_model(["partner_id", "company_id", *columns])
        self.env["res.partner"].flush_model(["commercial_partner_id", "email_normalized"])
        quoted = SQL(" OR ").join(
            SQL("%s = ANY(%s)", SQL.identifier("o", column), refs) for column in columns
        )
        if partner_id:
            customer = SQL(
                "p.commercial_partner_id = "
                "(SELECT commercial_partner_id FROM res_partner WHERE id = %s)",
                partner_id,
            )
        else:
            customer = SQL("p.email_normalized = %s", email)
        company = SQL("AND o.company_id = %s", company_id) if company_id else SQL()
        self.env.cr.execute(
            SQL(
                """SELECT o.id FROM sale_order o JOIN res_partner p ON p.id = o.partner_id
                    WHERE (%s) AND %s %s ORDER BY o.id LIMIT 2""",
                quoted,
                customer,
                company,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        return Order.browse(ids) if len(ids) == 1 else Order.browse()

"""Sale orders built from imported shop orders.

Prices are taken as the shop computed them, never recomputed by a pricelist:

* a product line gets the shop's unit price and one tax of the shop's rate: a percent
  sales tax of the company with that rate, "included in price" when the shop's price is
  gross, else excluded (created when the company has none); a line without a rate gets
  no tax at all (the shop charged none);
* shipping, discounts (one line, negative), vouchers and fees are gross amounts, so they
  get the rate of the order's largest line, included in the price.
"""

from odoo import api, models
from odoo.fields import Command, Domain

from odoo.addons.mail_crm_shop.services.errors import PermanentError

from ..services.order_checks import OrderException, check_order
from .shop_order_import_batch import running_batch

FEE_PRODUCTS = {
    "cod": "shop_connector.product_shop_cod_fee",
    "voucher": "shop_connector.product_shop_voucher",
}


# one file per concern on sale.order: automation in sale_order.py, release in
# sale_order_release.py, after delivery in sale_order_delivery.py, the import here
class SaleOrder(models.Model):
    _inherit = "sale.order"  # pylint: disable=consider-merging-classes-inherited

    # --- create ---------------------------------------------------------------

    @api.model
    def _shop_create_from_import(self, record, order):
        """A quotation for ``order``; held with cases when it needs a person."""
        backend = record.backend_id
        company = backend.company_id
        partners = self.env["res.partner"]._shop_find_or_create_customer(order, company)
        products = self._shop_find_products(order, company)
        vals = backend._shop_prepare_sale_order_vals(order, partners)
        vals["order_line"] = self._shop_prepare_lines(order, products, company)
        carrier = self._shop_carrier_for(backend, order)
        if carrier:
            vals["carrier_id"] = carrier.id
        sale_order = self.create(vals)
        if not carrier:
            sale_order._shop_note_unmapped_carrier(order)
        sale_order._shop_check_currency(order)
        exceptions = sale_order._shop_check(record, order, products)
        sale_order._shop_hold_or_start(record, exceptions)
        return sale_order

    @api.model
    def _shop_find_products(self, order, company):
        """``{line index: product}`` of the order's lines (``product.product``'s
        ``_shop_find_products``), from the running batch's lookups when it knows them all."""
        Product = self.env["product.product"]
        batch = running_batch(self.env)
        found = batch.find_products(order, company.id) if batch else None
        if found is None:
            return Product._shop_find_products(order, company)
        records = {p.id: p for p in Product.browse(sorted(set(found.values())))}  # one prefetch
        return {index: records[product_id] for index, product_id in found.items()}

    @api.model
    def _shop_carrier_for(self, backend, order):
        """The mapped delivery method of the order's shipping method, else the default."""
        carrier = self.env["shop.carrier.map"]._shop_find_carrier(backend, order)
        return carrier or backend.default_carrier_id

    def _shop_note_unmapped_carrier(self, order):
        """Tell who handles the order that the shipping method found no delivery method."""
        self.ensure_one()
        method = order.shipping_method_title or order.shipping_method
        if not method:
            return  # the shop named none: nothing a mapping line could fix
        if order.shipping_method_title and order.shipping_method:
            method = f"{order.shipping_method_title} ({order.shipping_method})"
        self.message_post(
            body=self.env._(
                "The shop's shipping method %s is not mapped to a delivery method and the"
                " shop has no default one: choose the delivery method by hand, or map the"
                " method on the shop.",
                method,
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _shop_check_currency(self, order):
        if order.currency and self.currency_id.name != order.currency:
            raise PermanentError(
                f"order {order.number or order.external_id} is in {order.currency}, but its"
                f" sale order would be in {self.currency_id.name}: set a pricelist in"
                f" {order.currency} on the shop"
            )

    def _shop_check(self, record, order, products):
        """The reasons (``check_order``) to let a person look at this order first."""
        found = {order.lines[i] for i in products}
        bulky = {order.lines[i].sku for i, product in products.items() if product.shop_is_bulky}
        return check_order(
            order,
            {line.sku for line in found if line.sku},
            known_eans={line.ean for line in found if line.ean},
            bulky_skus=bulky,
            recent_orders=record._shop_recent_orders(self.partner_id),
            settings=record.backend_id._get_check_settings(),
        )

    def _shop_hold_or_start(self, record, exceptions):
        """Open the cases of ``exceptions`` and hold the order, else start processing it."""
        self.ensure_one()
        if exceptions:
            cases = self.env["crm.shop.case"]._shop_open_exception_cases(self, record, exceptions)
            if "shop_release_state" in self._fields:
                self.shop_release_state = "exception"
            return cases
        if hasattr(self, "_shop_start_processing"):
            self._shop_start_processing()
        return self.env["crm.shop.case"]  # no exception: no case to open

    def _shop_exceptions_resolved(self):
        """Every exception case of the order is done: automatic processing continues."""
        for sale_order in self:
            sale_order.message_post(
                body=self.env._("All exceptions of this shop order are resolved."),
                subtype_xmlid="mail.mt_note",
            )
            if hasattr(sale_order, "action_shop_resume"):
                sale_order.action_shop_resume()

    # --- lines ------------------------------------------------------------------

    @api.model
    def _shop_prepare_lines(self, order, products, company):
        commands = []
        found_taxes = {}  # the lines of an order mostly share one rate: look it up once

        def tax(rate, included):
            key = (rate, included)
            if key not in found_taxes:
                found_taxes[key] = self._shop_tax(rate, included, company)
            return found_taxes[key]

        for index, line in enumerate(order.lines):
            product = products.get(index)
            if not product:
                commands.append(Command.create(self._shop_unknown_line_vals(line)))
                continue
            taxes = tax(line.tax_rate, line.price_includes_tax)
            commands.append(
                Command.create(
                    {
                        "product_id": product.id,
                        "name": line.name or product.display_name,
                        "product_uom_qty": float(line.quantity),
                        "price_unit": float(line.unit_price),
                        "tax_ids": [Command.set(taxes.ids)],
                    }
                )
            )
        commands += self._shop_charge_lines(order, tax(self._shop_main_rate(order), True))
        return commands

    @api.model
    def _shop_charge_lines(self, order, taxes):
        """Shipping, discount, vouchers and fees as the shop computed them (gross amounts
        with ``taxes``, the rate of the order's largest line): one line each."""
        charges = [
            ("shop_connector.product_shop_shipping", order.shipping_total, ""),
            ("shop_connector.product_shop_discount", -order.discount_total, ""),
        ]
        charges += [
            (FEE_PRODUCTS.get(fee.kind, "shop_connector.product_shop_fee"), fee.amount, fee.label)
            for fee in order.fees
        ]
        commands = []
        for xmlid, amount, label in charges:
            if amount:
                product = self.env.ref(xmlid)
                commands.append(
                    Command.create(
                        {
                            "product_id": product.id,
                            "name": label or product.display_name,
                            "product_uom_qty": 1.0,
                            "price_unit": float(amount),
                            "tax_ids": [Command.set(taxes.ids)],
                        }
                    )
                )
        return commands

    def _shop_unknown_line_vals(self, line):
        ident = " / ".join(x for x in (line.sku, line.ean) if x) or "-"
        return {
            "display_type": "line_note",
            "name": self.env._(
                "Unknown product %(ident)s: %(qty)s x %(name)s at %(price)s",
                ident=ident,
                qty=line.quantity,
                name=line.name,
                price=line.unit_price,
            ),
        }

    @api.model
    def _shop_main_rate(self, order):
        lines = [line for line in order.lines if line.tax_rate is not None]
        if not lines:
            return None
        return max(lines, key=lambda line: line.gross_subtotal).tax_rate

    @api.model
    def _shop_tax(self, rate, included, company):
        """The company's sales tax of ``rate`` percent, price-included or not; created if new."""
        taxes = self.env["account.tax"].with_company(company)
        if rate is None:
            return taxes.browse()
        batch = running_batch(self.env)
        tax_id = batch.find_tax(rate, included, company.id) if batch else None
        if tax_id:
            return taxes.browse(tax_id)
        mode = "tax_included" if included else "tax_excluded"
        domain = (
            Domain("company_id", "=", company.id)
            & Domain("type_tax_use", "=", "sale")
            & Domain("amount_type", "=", "percent")
            & Domain("amount", "=", float(rate))
            & Domain("price_include", "=", included)
        )
        tax = taxes.search(domain, limit=1, order="sequence, id")
        if tax:
            return tax
        return taxes.sudo().create(
            {
                "name": self.env._("%(rate)s%% (shop, %(mode)s)", rate=rate, mode=mode),
                "amount": float(rate),
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": mode,
                "company_id": company.id,
            }
        )

    # --- changes and cancellations ------------------------------------------------

    def _shop_apply_change(self, record, order):
        """The shop changed an order we imported already: update, cancel or ask a person."""
        self.ensure_one()
        if order.status == "cancelled":
            return self._shop_cancel_from_shop(record)
        if self.state in ("draft", "sent"):
            company = record.backend_id.company_id
            products = self._shop_find_products(order, company)
            lines = [Command.delete(line.id) for line in self.order_line]
            lines += self._shop_prepare_lines(order, products, company)
            self.write({"order_line": lines})
            carrier = self._shop_carrier_for(record.backend_id, order)
            if carrier and carrier != self.carrier_id:
                self.carrier_id = carrier
            self.message_post(
                body=self.env._("Updated: the order was changed in the shop."),
                subtype_xmlid="mail.mt_note",
            )
            self._shop_hold_or_start(record, self._shop_check(record, order, products))
            return self
        message = self.env._("The order was changed in the shop after it was confirmed here.")
        self.message_post(body=message, subtype_xmlid="mail.mt_note")
        self.env["crm.shop.case"]._shop_open_exception_cases(
            self, record, [OrderException("order_changed", message)]
        )
        return self

    def _shop_cancel_from_shop(self, record):
        if self.state == "cancel":
            return self
        shipped = self.picking_ids.filtered(lambda p: p.state == "done")
        invoiced = self.invoice_ids.filtered(lambda m: m.state == "posted")
        if shipped or invoiced:
            message = self.env._(
                "The order was cancelled in the shop, but it is already shipped or invoiced."
            )
            self.message_post(body=message, subtype_xmlid="mail.mt_note")
            self.env["crm.shop.case"]._shop_open_exception_cases(
                self, record, [OrderException("cancelled_after_shipping", message)]
            )
            return self
        self._action_cancel()
        self.message_post(
            body=self.env._("Cancelled: the order was cancelled in the shop."),
            subtype_xmlid="mail.mt_note",
        )
        return self

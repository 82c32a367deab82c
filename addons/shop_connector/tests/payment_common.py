from decimal import Decimal

from odoo import fields

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..services.payments import BankTransaction


class ShopPaymentCase(AccountTestInvoicingCommon):
    """Payment accounts, imported movements and open invoices on a company with a chart."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids |= cls.env.ref("shop_connector.group_manager")
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.bank_account = cls._create_payment_account()
        cls.customer = cls.env["res.partner"].create(
            {"name": "Sophie Schäfer", "email": "sophie@example.com"}
        )

    @classmethod
    def _create_payment_account(cls, **overrides):
        vals = {
            "name": "Bank",
            "kind": "bank",
            "journal_id": cls.bank_journal.id,
            "account_identifier": "DE02500105170137075030",
            **overrides,
        }
        return cls.env["shop.payment.account"].create(vals)

    @classmethod
    def _create_invoice(cls, amount, partner=None, **overrides):
        invoice = cls.init_invoice(
            "out_invoice",
            partner=partner or cls.customer,
            amounts=[amount],
            taxes=[],
            invoice_date=fields.Date.today(),
            **overrides,
        )
        invoice.action_post()
        return invoice

    @classmethod
    def _create_transaction(cls, amount, purpose="", **overrides):
        vals = {
            "key": f"bank:TEST:{purpose}:{amount}",
            "account": "DE02500105170137075030",
            "booking_date": fields.Date.today(),
            "value_date": None,
            "amount": Decimal(str(amount)),
            "currency": cls.env.company.currency_id.name,
            "counterparty_name": "Sophie Schäfer",
            "counterparty_iban": "DE12500105170648489890",
            "purpose": purpose,
            **overrides,
        }
        return BankTransaction(**vals)

    def _import(self, *transactions, account=None):
        """Store ``transactions`` as statement lines of ``account`` and match them."""
        account = account or self.bank_account
        lines, _known = account._import_transactions(list(transactions), "Test statement")
        lines._shop_match()
        return lines

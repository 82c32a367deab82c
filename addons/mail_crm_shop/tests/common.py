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

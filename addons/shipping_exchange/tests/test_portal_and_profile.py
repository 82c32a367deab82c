from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import ShippingExchangeCase


@tagged("post_install", "-at_install")
class TestPortalAndProfile(ShippingExchangeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.carrier_user = new_test_user(cls.env, "carrier", groups="base.group_portal")
        cls.profile = cls._create_profile(
            name="Own", partner_id=cls.carrier_user.partner_id.id, password="s3cret"
        )
        cls.other_profile = cls._create_profile(name="Other carrier")
        cls.picking = cls._create_ready_picking()
        cls.mine = cls._create_record(
            profile_id=cls.profile.id, picking_id=cls.picking.id, state="sent"
        )
        cls.theirs = cls._create_record(profile_id=cls.other_profile.id, state="sent")

    def test_carrier_sees_only_deliveries_sent_to_its_profile(self):
        Record = self.env["shipping.exchange.record"].with_user(self.carrier_user)
        self.assertEqual(Record.search([]), self.mine)
        with self.assertRaises(AccessError):
            self.theirs.with_user(self.carrier_user).check_access("read")
        with self.assertRaises(AccessError):
            self.mine.with_user(self.carrier_user).write({"state": "confirmed"})

    def test_tracking_number_from_the_portal_validates_the_delivery(self):
        with self.assertRaises(UserError):
            self.mine._confirm_from_portal("  ")
        self.assertEqual(self.mine.state, "sent")
        entry = self.mine._confirm_from_portal("00340434161234567890")
        self.assertEqual((entry.direction, entry.source, entry.state), ("in", "portal", "pending"))
        self.assertEqual(self.mine.state, "sent")
        with self.assertRaises(UserError):  # twice while the first is processed
            self.mine._confirm_from_portal("00340434161234567890")
        self._run_cron("ir_cron_process_confirmations")
        self.assertEqual(entry.state, "done")
        self.assertEqual(self.mine.state, "confirmed")
        self.assertEqual(self.picking.state, "done")
        self.assertEqual(self.picking.carrier_tracking_ref, "00340434161234567890")
        with self.assertRaises(UserError):  # confirmed: nothing twice
            self.mine._confirm_from_portal("00340434161234567890")
        self.assertEqual(
            self.env["stock.picking"].search_count([("backorder_id", "=", self.picking.id)]), 0
        )

    def test_credentials_are_for_managers_only(self):
        user = new_test_user(self.env, "shipper", groups="shipping_exchange.group_user")
        profile = self.profile.with_user(user)
        self.assertEqual(profile.name, "Own")
        with self.assertRaises(AccessError):
            _password = profile.password
        manager = new_test_user(self.env, "boss", groups="shipping_exchange.group_manager")
        self.assertEqual(self.profile.with_user(manager).password, "s3cret")

    def test_host_key_is_trusted_only_after_a_person_confirms_it(self):
        key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
        self.patch(self.registry["shipping.exchange.profile"], "_fetch_host_key", lambda p: key)
        self.profile.host = "sftp.carrier.example"
        self.profile.action_fetch_host_key()
        self.assertEqual(self.profile.fetched_host_key, key)
        self.assertFalse(self.profile.host_key)
        self.profile.action_trust_host_key()
        self.assertEqual(self.profile.host_key, key)
        self.assertFalse(self.profile.fetched_host_key)

    def test_csv_mapping_is_checked_on_save(self):
        with self.assertRaises(ValidationError):
            self.profile.csv_mapping = '{"no_such_column": "x"}'
        with self.assertRaises(ValidationError):
            self.profile.csv_mapping = "not json"
        self.profile.csv_mapping = '{"reference": "Lieferschein"}'
        self.assertEqual(self.profile._csv_mapping().reference, "Lieferschein")

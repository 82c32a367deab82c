"""Fault injection: faults put into the running flow, then the books are checked.

Here (pytest): CPython's e-mail corpus and hostile header bytes through the inbox's pure
parsers, and real Odoo processes (marked ``heavy``): ``test_cron_kill``, a cron worker
SIGKILLed mid-batch and restarted and two workers on the same mails at once;
``test_cron_kill_orders``, the same for the order processing cron, and two workers at
once on the carrier export (FTP) and on opening cases for unmatched payments;
``test_cron_payments_rematch``, two workers matching open payments again at once and two
re-creating a deleted default exception queue.

The Odoo-level fault tests live in the addons (``addons/*/tests/test_faults_*.py``):
IMAP killed mid-fetch, the e-mail corpus, fuzzed MIME and a 50 MB attachment through the
inbox; FTP/SFTP uploads cut, confirmation files twice, half-written, hostile XML and
unsafe names; shop and PayPal APIs answering 429, 500, too late, truncated JSON, and the
same order or transaction twice.
"""

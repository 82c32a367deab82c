"""Fault injection: faults put into the running flow, then the books are checked.

Here (pytest): CPython's e-mail corpus and hostile header bytes through the inbox's pure
parsers, and real Odoo processes (``test_cron_kill``, marked ``heavy``): a cron worker
SIGKILLed mid-batch and restarted, two workers on the same mails at once.

The Odoo-level fault tests live in the addons (``addons/*/tests/test_faults_*.py``):
IMAP killed mid-fetch, the e-mail corpus, fuzzed MIME and a 50 MB attachment through the
inbox; FTP/SFTP uploads cut, confirmation files twice, half-written, hostile XML and
unsafe names; shop and PayPal APIs answering 429, 500, too late, truncated JSON, and the
same order or transaction twice.
"""

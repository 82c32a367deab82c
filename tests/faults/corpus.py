"""CPython's own e-mail test corpus (``test/test_email/data/msg_*.txt``), located once.

The corpus ships with CPython's ``test`` package. It is required: when it is missing the
tests that use it fail with an explanation instead of being skipped.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

MINIMUM_MESSAGES = 40  # CPython 3.10 to 3.13 ship 45 to 48 msg_*.txt files


def cpython_email_corpus() -> list[Path]:
    """The ``msg_*.txt`` files of CPython's e-mail tests; raise if they are not installed."""
    spec = importlib.util.find_spec("test.test_email")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "CPython's test package (test.test_email) is not installed: install the "
            "interpreter's test suite (Debian: libpythonX.Y-testsuite) to run the e-mail "
            "corpus fault tests"
        )
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    messages = sorted(data.glob("msg_*.txt"))
    if len(messages) < MINIMUM_MESSAGES:
        raise FileNotFoundError(
            f"only {len(messages)} msg_*.txt files in {data}: CPython's e-mail corpus is incomplete"
        )
    return messages

"""Real protocol servers on 127.0.0.1 with free ports, started by the tests themselves."""

from .servers.ftp import *  # noqa: F403
from .servers.http import *  # noqa: F403
from .servers.imap import *  # noqa: F403
from .servers.imap_tls import *  # noqa: F403
from .servers.sftp import *  # noqa: F403
from .servers.smtp import *  # noqa: F403

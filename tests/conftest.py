"""Make the pure parts of the addons importable without Odoo.

Each addon folder is mounted as ``shopaddons.<addon>`` without running its
``__init__.py`` (which imports the Odoo models), so tests import e.g.
``shopaddons.mail_crm_shop.services.retry``. Inside the addons, pure modules reach a
sibling addon's pure code with relative imports (``from ...mail_crm_shop.services``),
which resolve to ``odoo.addons.<addon>`` under Odoo and to ``shopaddons.<addon>`` here.
"""

import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADDONS_DIR = ROOT / "addons"
ADDONS = ("mail_crm_shop", "shop_connector", "shipping_exchange", "review_request")
DATA_DIR = ROOT / "tests" / "data"

if str(ROOT) not in sys.path:  # benchmarks/ helpers are tested too
    sys.path.insert(0, str(ROOT))


def _mount(name: str, path: Path) -> types.ModuleType:
    module = sys.modules.get(name)
    if module is None:
        module = types.ModuleType(name)
        module.__path__ = [str(path)]
        module.__package__ = name
        sys.modules[name] = module
    return module


_mount("shopaddons", ADDONS_DIR)
for _addon in ADDONS:
    setattr(sys.modules["shopaddons"], _addon, _mount(f"shopaddons.{_addon}", ADDONS_DIR / _addon))

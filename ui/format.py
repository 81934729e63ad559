"""How numbers read on screen: the app's name for spm_core.formatting, the one formatter the app, the
command line and the exports share."""

from spm_core.formatting import NO_VALUE, by_unit, exact_by_unit, is_missing, money, money_exact, percent

__all__ = ["NO_VALUE", "by_unit", "exact_by_unit", "is_missing", "money", "money_exact", "percent"]

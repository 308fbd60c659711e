"""Testing helpers for users of the checker: Hypothesis strategies for snapshots.

Property-test your own policies against documents the contract allows
(SNAPSHOTS.md)::

    from hypothesis import given
    import checker
    from checker.testing import products, tier_tables

    MY_PACK = checker.load_policies(["my-policies/"])

    @given(products(price_mode="tiered", tiers=tier_tables(policies=MY_PACK, valid=True)))
    def test_clean_tier_tables_pass_my_pack(product):
        report = checker.check([product], as_of="2022-12-27", policies=MY_PACK)
        assert [] == [f for f in report.findings if f.family == "tier-anomaly"]

The tier strategies take the thresholds of RULES.md 3 (the most tiers, the
largest drop between tiers) from the pack passed as `policies=` (default:
the bundled pack), so that "valid" means valid under that pack;
`tier_thresholds(MY_PACK)` shows what they read.

Importing this package imports Hypothesis (a test dependency, `pip install
compliance[dev]`); the command line and `import checker` never import it.
"""

from __future__ import annotations

from . import strategies
from .strategies import *  # noqa: F403 - the strategies module's __all__ is this package's

__all__ = strategies.__all__

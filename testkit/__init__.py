"""Test support shared by every app's tests: factories that reach each state of a claim's
life cycle through the real services (``testkit.factories``), exposed as fixtures in the root
``conftest.py`` (``claim_factory``, ``staff_factory``, ...).

Test helpers live here and in fixtures, never in another app's test modules. This package is
not one of the apps (it is outside the layers import-linter checks): it may call every app's
services, as a test of the whole workflow must.
"""

"""Helpers the test suites share: real processes the tests start and stop themselves."""

"""Shared pytest setup. Fixture plugins: services (Mosquitto, PostgreSQL) and a till."""

pytest_plugins = ["tests.fixtures_services", "tests.fixtures_till", "tests.office.browser"]

"""Shared pytest setup. Fixture plugins: services (Mosquitto, PostgreSQL) and a till.

The tests run on the shop's clock: a till and head office date every sale in Amsterdam time
(contract/shop_time.py) and the tests compare with `date.today()`, so the machine's zone is
set to the shop's here (a CI machine in UTC would otherwise disagree between 23:00 and
midnight). tests/test_shop_clock.py checks the till keeps the shop's day in any other zone.
"""

import os
import time

os.environ["TZ"] = "Europe/Amsterdam"
time.tzset()

pytest_plugins = ["tests.fixtures_services", "tests.fixtures_till", "tests.office.browser"]

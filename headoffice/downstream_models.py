"""What head office last sealed and published downstream, per store and sequence: the
version a till should hold, against which the terminals page shows the tills behind it."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel

FLEET_STORE = "*"  # the fleet-wide config: every store's tills should hold it
# the version sequence each kind counts in (a store's catalogue and prices share one), as the
# till reports it in `status` versions
SEQUENCE_OF = {"catalogue": "catalogue", "prices": "catalogue", "offers": "offers",
               "config": "config", "promotions": "promotions", "release": "release"}


class DownstreamPublished(OfficeModel):
    store = peewee.CharField(max_length=64)  # or FLEET_STORE
    sequence = peewee.CharField(max_length=20)
    version = peewee.BigIntegerField()
    published_at = peewee.CharField(max_length=40)

    class Meta:
        primary_key = peewee.CompositeKey("store", "sequence")


DOWNSTREAM_MODELS = [DownstreamPublished]

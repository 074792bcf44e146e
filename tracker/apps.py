from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "督办台账"

    def ready(self):
        # Schema upkeep, not a record's side effect: after every migrate, each watched table
        # has its data-version triggers (tracker/freshness.py).
        post_migrate.connect(sync_data_version_triggers, sender=self)


def sync_data_version_triggers(sender, using, apps=None, **kwargs):
    from django.apps import apps as installed_apps
    from django.db import connections

    from . import freshness

    # `migrate` passes the migrated state; `flush` (tests) passes none: the models as they are.
    freshness.sync(connections[using], apps or installed_apps)

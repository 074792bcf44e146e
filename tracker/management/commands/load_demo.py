"""Load the demo data (fixtures/demo.json) only into a database nobody uses yet.

`make run` calls this on every start. `loaddata demo` would write the fixture's rows over
the same primary keys each time, silently undoing whatever staff changed since; so as soon
as the database has any user account it is not empty any more and nothing is loaded.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from tracker.models import User

FIXTURE = "demo"


class Command(BaseCommand):
    help = (
        "仅在数据库中还没有任何用户时加载演示数据（fixtures/demo.json），不覆盖已有修改。"
        "Load the demo fixture into a database without users; otherwise skip it."
    )

    def handle(self, *args, **options):
        users = User.objects.count()
        if users:
            self.stdout.write(
                f"跳过演示数据：数据库中已有 {users} 个用户账号，重新加载会覆盖人工修改。"
                f"如需重置，请删除数据库后重新运行。"
                f" / Demo data skipped: the database already has {users} user(s)."
            )
            return
        with transaction.atomic():
            call_command("loaddata", FIXTURE, verbosity=0)
        self.stdout.write(
            f"已加载演示数据（{User.objects.count()} 个演示账号，密码均为 demo2026）。"
            " / Demo data loaded."
        )

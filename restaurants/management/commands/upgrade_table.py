from django.core.management.base import BaseCommand, CommandError

from restaurants.dynamo.errors import NotFound
from restaurants.dynamo.schema import upgrade_table


class Command(BaseCommand):
    help = (
        "Bring a table made by the AWS lab (or an older version of ours) up to date. "
        "Only adds indexes and attributes; never changes lab data. Safe to run again."
    )

    def handle(self, *args, **options):
        try:
            done = upgrade_table(progress=self.stdout.write)
        except NotFound as error:
            raise CommandError(str(error)) from error
        for line in done:
            self.stdout.write(f"- {line}")
        self.stdout.write(self.style.SUCCESS("Table is up to date." if done else "Nothing to do: table is up to date."))

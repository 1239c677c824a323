from django.conf import settings
from django.core.management.base import BaseCommand

from restaurants.dynamo.schema import create_table


class Command(BaseCommand):
    help = "Create the DynamoDB table with all its indexes (does nothing if it exists)."

    def handle(self, *args, **options):
        created = create_table()
        state = "Created" if created else "Table already exists:"
        self.stdout.write(self.style.SUCCESS(f"{state} {settings.DYNAMODB_TABLE}"))

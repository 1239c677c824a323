from functools import partial

from django.core.management.base import BaseCommand, CommandError

from restaurants.dynamo import item_keys
from restaurants.dynamo import repair as repairs
from restaurants.dynamo.schema import describe_table, survey_table, upgrade_table

REPAIR_HINT = "run upgrade_table --repair --dry-run to see each change, then --repair to make them"


class Command(BaseCommand):
    help = (
        "Bring a table made by the AWS lab (or an older version of ours) up to date: our indexes, the "
        "table's stream, our index attributes. Never changes lab data unless --repair is given. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="also rewrite reviews written with the lab script's GSI1SK (REVIEW#<id> -> #REVIEW#<id>) and "
            "recount star counters that disagree with the stored reviews",
        )
        parser.add_argument("--dry-run", action="store_true", help="print what would be done; change nothing")

    def handle(self, *args, repair=False, dry_run=False, **options):
        if describe_table() is None:
            raise CommandError("The table does not exist: run create_table first.")
        survey = survey_table()  # one Scan, for the upgrade and the repairs
        done = upgrade_table(progress=self.stdout.write, dry_run=dry_run, survey=survey)
        for line in done:
            self.stdout.write(f"- {line}")
        mismatches = repairs.counter_mismatches(survey)
        to_repair = bool(survey.misplaced_reviews or mismatches)
        if repair:
            skipped = self._repair(survey.misplaced_reviews, mismatches, dry_run=dry_run)
            if skipped:
                self.stdout.write(
                    self.style.WARNING(f"{skipped} changed meanwhile and were left alone: run --repair again.")
                )
        elif to_repair:
            self.stdout.write(self.style.WARNING(f"Needs repair ({REPAIR_HINT}):"))
            if survey.misplaced_reviews:
                self.stdout.write(
                    f"- {len(survey.misplaced_reviews)} reviews have the lab script's sort key REVIEW#<id> "
                    "(its items.json has #REVIEW#<id>)"
                )
            if mismatches:
                names = ", ".join(mismatch.name for mismatch in mismatches)
                self.stdout.write(
                    f"- {len(mismatches)} restaurants have star counters that disagree with their stored reviews "
                    f"and can be recounted: {names}"
                )
        if dry_run:
            self.stdout.write(self.style.SUCCESS("Dry run: nothing was changed."))
        elif to_repair and not repair:
            self.stdout.write(self.style.WARNING("Indexes and stream are up to date; the data above needs repair."))
        elif done or to_repair:
            self.stdout.write(self.style.SUCCESS("Table is up to date."))
        else:
            self.stdout.write(self.style.SUCCESS("Nothing to do: table is up to date."))

    def _repair(self, misplaced: list[dict], mismatches: list[repairs.CounterMismatch], *, dry_run: bool) -> int:
        """Print each fix (made, or with ``dry_run`` to be made); the number skipped."""
        fixes = [
            ("rewrite", "rewrote", _sort_key_change(review), partial(repairs.review_sort_key_repair, review))
            for review in misplaced
        ]
        fixes += [
            ("recount", "recounted", mismatch.describe(), partial(repairs.counters_recount, mismatch))
            for mismatch in mismatches
        ]
        skipped = 0
        for would, did, change, fix in fixes:
            if dry_run:
                self.stdout.write(f"- would {would} {change}")
            elif fix():
                self.stdout.write(f"- {did} {change}")
            else:
                skipped += 1
        return skipped


def _sort_key_change(review: dict) -> str:
    repaired = item_keys.repaired_review_sort_key(review["GSI1SK"])
    return f"GSI1SK of {review['PK']} / {review['SK']}: {review['GSI1SK']} -> {repaired}"

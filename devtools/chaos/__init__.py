"""``make chaos``: a randomized fault checker in the spirit of Jepsen (issue #20).

Each round of fault testing found the next broken state by hand. This tool
composes faults from a catalogue (``catalogue``: Redis restarted from an older
snapshot, paused, its replica detached, a promotion with an endpoint move,
DynamoDB Local paused, the stream follower killed or doubled, hostile items
from another client, a rolling release) into a seeded random schedule
(``schedule``), runs it against real processes while anonymous readers,
logged-in writers and outside writers (boto3, lab-shaped) work
(``world``, ``attempt``), records everything (``history``), checks the
site's promises on the record (``checker``) and, on a failure, shrinks the
schedule to the faults that matter (``runner``). ``make chaos SEED=n``
replays a seed's schedule and load plan. Report: ``var/chaos/report.md``.
"""

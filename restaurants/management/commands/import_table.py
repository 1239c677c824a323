from .load_items import Command as LoadItems


class Command(LoadItems):
    help = (
        "Restore a backup written by export_table (DynamoDB's typed JSON lines; the lab's plain items.json "
        "works too). Every line is checked first; by default nothing is written if one cannot be."
    )

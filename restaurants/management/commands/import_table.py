from .load_items import Command as LoadItems


class Command(LoadItems):
    help = "Restore a backup written by export_table (JSON lines) into the table."

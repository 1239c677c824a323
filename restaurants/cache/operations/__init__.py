"""What operators run: flushes, the dashboard's health figures, warming."""

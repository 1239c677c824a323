"""``{{ seconds|duration }}``: a number of seconds as staff read it ("15 min", "1 h", "24 h", "14 days")."""

from django import template

register = template.Library()

MINUTE, HOUR, DAY = 60, 3600, 86400


@register.filter
def duration(seconds: float) -> str:
    """Whole units, largest first, and a second unit only when the first is
    not exact ("1 h 30 min"). Hours up to two days: "24 h" reads better than "1 day"."""
    seconds = round(seconds)
    if seconds < MINUTE:
        return f"{seconds} s"
    if seconds < HOUR:
        return _two(seconds, MINUTE, "min", 1, "s")
    if seconds <= 2 * DAY:
        return _two(seconds, HOUR, "h", MINUTE, "min")
    days, rest = divmod(seconds, DAY)
    text = f"{days} days"
    return f"{text} {rest // HOUR} h" if rest // HOUR else text


def _two(seconds: int, unit: int, name: str, smaller: int, smaller_name: str) -> str:
    whole, rest = divmod(seconds, unit)
    rest //= smaller
    return f"{whole} {name} {rest} {smaller_name}" if rest else f"{whole} {name}"

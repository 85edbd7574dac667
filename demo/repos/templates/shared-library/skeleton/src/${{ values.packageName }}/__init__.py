"""${{ values.description }}"""

__version__ = "0.1.0"


def slugify_stop_name(name: str) -> str:
    """Example helper: turn a stop name into a URL-friendly slug.

    >>> slugify_stop_name("Harbour Square (Platform B)")
    'harbour-square-platform-b'
    """
    cleaned = "".join(ch.lower() if ch.isalnum() else " " for ch in name)
    return "-".join(cleaned.split())

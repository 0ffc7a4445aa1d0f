"""File sizes for people: 512 B, 12.3 KB, 4.0 MB (a small file is never "0 KB")."""


def human_size(size: int | None) -> str:
    """Format a byte count with one decimal from KB upwards."""
    size = int(size or 0)
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"

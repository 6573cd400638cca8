def page_limit(limit: int, most: int) -> int:
    """The page size a client asked for, at least one and at most `most`."""
    return max(1, min(limit, most))

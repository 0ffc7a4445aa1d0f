"""Action items (待办) agreed in meetings, and later their tracking."""

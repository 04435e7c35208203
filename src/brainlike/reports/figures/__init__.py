"""Every figure brainlike draws; each takes data (and an optional Axes) and returns a Figure."""

"""Side-by-side verdicts: circuits against digital samplers on the same tasks, through the same metrics."""

"""The demo (``thermosim demo``): every shipped spec and sweep, the applications, and results/REPORT.md."""

"""Chat-log review for training: conversations worth a second look, and their export as a
transcript suite so a case becomes a benchmark."""

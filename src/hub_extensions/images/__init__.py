"""Container images the suite builds for its demo and tests."""

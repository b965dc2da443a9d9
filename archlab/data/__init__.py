"""Data sets archlab draws itself (numpy only; nothing is downloaded)."""

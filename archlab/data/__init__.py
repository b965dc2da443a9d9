"""Data archlab draws itself (numpy only): faces and backdrops. Any tier may use it."""

"""Timing without torch: statistics of samples, interleaved rounds, the latency anatomy records."""

"""Analyses: functions over the plan (and, for some, the built module). They return records, never print."""

"""The plan: primitive layers computed without torch, and the op table that says what each op is."""

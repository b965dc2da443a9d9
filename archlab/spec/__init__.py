"""The table language: what a user writes (YAML tables, fields, row types, the schema)."""

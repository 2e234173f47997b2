"""Pure xlsx helpers: safety checks before parsing, reading with calamine,
writing with xlsxwriter (templates, result files, streamed exports)."""

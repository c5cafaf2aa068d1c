"""Report: turn a scan result into files (CSV, JSON, HTML). Formatters are pure; `write` does the I/O."""

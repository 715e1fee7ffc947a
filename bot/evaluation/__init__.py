"""Transcript benchmarks: suites, the runner, metrics and reports (transcript-format.md)."""

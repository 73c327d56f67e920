"""Benchmarks: `make bench` prints ratios and medians measured side by side; it never fails."""

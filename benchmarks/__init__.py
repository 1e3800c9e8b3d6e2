"""`make bench`: throughput benchmarks, figures and ratios measured side by side."""

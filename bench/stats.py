"""Percentiles and summaries of latency samples (seconds in, milliseconds out)."""
import math


def percentile(values, fraction):
    """Linear interpolation between closest ranks (the method of numpy's default and Excel's PERCENTILE.INC)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(seconds):
    """count, mean, p50, p95, p99 and max in milliseconds (None when there are no samples)."""
    ms = [value * 1000 for value in seconds]
    if not ms:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    return {
        "count": len(ms),
        "mean": sum(ms) / len(ms),
        "p50": percentile(ms, 0.50),
        "p95": percentile(ms, 0.95),
        "p99": percentile(ms, 0.99),
        "max": max(ms),
    }

"""Vigil's validation stage: deduplicates, filters false positives, scores, finalises scans."""

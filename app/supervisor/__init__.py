"""Supervisors: agency dashboard, progress over time, comparisons, the agency report and the agency exports."""

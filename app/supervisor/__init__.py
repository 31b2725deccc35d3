"""Supervisors: agency dashboard, progress over time, comparisons, the agency report and exports."""

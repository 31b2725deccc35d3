"""Action plans (issue 17): a unit's actions against the gaps its assessments found."""

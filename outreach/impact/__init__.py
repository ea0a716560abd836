"""What works here: attendance before and since a start date, against similar pupils who did not
take part (difference in differences). One module for interventions, walking buses and parent
groups: ``stats`` is pure (numpy), ``data`` reads pupil-week rollups and calls it."""

"""Walking buses: routes and stops, enrolments with consent, ambassadors and their weekly rota,
schedules and replies by SMS, morning check-ins, and whether the buses work (``outreach.impact``)."""

"""The officer dashboard: Today, school overview, pupils, pupil, trust pages and their JSON API.

``logic.py`` is pure (filters, sorting, the mark calendar, sparklines, CSV cells); ``queries.py``
reads through the attendance and interventions read sides; ``routes.py`` and ``api.py`` are thin.
"""

"""Interventions: the log of what staff did, the rules that prompt them, early-help referrals.

Support comes first: every rule makes a task for a person with a supportive next step; nothing
here issues a sanction. Penalty notices and other legal steps are only ever *recorded*.
"""

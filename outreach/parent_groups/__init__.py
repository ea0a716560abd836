"""Parent groups: a weekly group for parents and carers ("Brew and Biscuits"), its members,
meetings and who came, invitations and reminders by SMS, and whether it works (``outreach.impact``)."""

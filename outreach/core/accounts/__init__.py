"""Accounts and roles: ``models`` (User, ApiToken, LoginThrottle), ``roles`` (pure rules),
``services`` (create, authenticate, passwords, tokens), ``throttle`` (failed sign-ins),
``routes`` (sign in/out, account), ``admin_routes``, ``cli`` (``outreach users``).
Which schools a user sees is decided in ``outreach.core.scoping``, nowhere else."""

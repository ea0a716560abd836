from tests.dashboard.conftest import _fast_hashing, world  # noqa: F401  (the dashboard's world and fast hashing)

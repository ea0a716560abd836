"""Settings for outreach, read from the environment (see ``config.settings``)."""
from config.settings import load_settings

__all__ = ["load_settings"]

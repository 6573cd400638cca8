"""What the api function builds once per container, from its environment: its settings and stores."""

from batch_core.dal.stores import Stores
from batch_core.settings import Settings

SETTINGS = Settings()
STORES = Stores.from_settings(SETTINGS)

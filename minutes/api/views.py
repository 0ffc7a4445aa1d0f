"""JSON API v1 over the same service functions as the pages; /openapi.json is built from the registry.

The blueprint, the registry and the OpenAPI document are in minutes.api.core; importing the domain modules
here, in this order, registers their operations (the order of the document's paths).
"""
from minutes.api.core import OPERATIONS, bp  # noqa: F401  (the blueprint and registry this package fills)
from minutes.api import meetings  # noqa: F401  isort: skip
from minutes.api import tokens  # noqa: F401  isort: skip
from minutes.api import room  # noqa: F401  isort: skip
from minutes.api import records  # noqa: F401  isort: skip
from minutes.api import actions  # noqa: F401  isort: skip

"""Finds the feature packages of this service.

Each feature (``users``, ``jobs``, an optional module…) is a sub-package that may
hold ``router.py`` (an ``APIRouter`` named ``router``), ``models.py``, ``tasks.py``
and ``lifespan.py`` (a ``lifespan()`` async context manager, entered in API and
worker processes alike). Adding or removing a package is enough to add or remove
a feature: no central list to edit, as taskiq's own ``--fs-discover`` does for
tasks.

Task backends are found the same way, in ``worker/backends/``.
"""

import importlib
import importlib.util
import pkgutil
from types import ModuleType

PACKAGE = __name__.rpartition(".")[0]


def feature_module_names(kind: str) -> list[str]:
    """Dotted names of ``<package>.<feature>.<kind>`` for every feature that has one."""
    package = importlib.import_module(PACKAGE)
    names = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        name = f"{PACKAGE}.{info.name}.{kind}"
        if info.ispkg and importlib.util.find_spec(name) is not None:
            names.append(name)
    return names


def import_feature_modules(kind: str) -> list[ModuleType]:
    return [importlib.import_module(name) for name in feature_module_names(kind)]

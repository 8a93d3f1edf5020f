"""bo1 look-alike: a FastAPI service whose /metrics, Postgres rows and Redis keys are bo1's."""

from bo1dash.workload.app import create_app
from bo1dash.workload.schema import apply_schema
from bo1dash.workload.settings import Settings

__all__ = ["Settings", "apply_schema", "create_app"]

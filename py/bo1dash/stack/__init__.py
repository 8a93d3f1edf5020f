"""The local stack: PostgreSQL, Redis, exporters, the bo1 look-alike workload and Prometheus on 127.0.0.1.

with start_stack(StackOptions(seed=7)) as stack:
    httpx.get(f"{stack.prometheus_url}/api/v1/query", params={"query": "up"})
"""

from bo1dash.stack.binaries import MissingBinaryError
from bo1dash.stack.core import RunningStack, StackOptions, load_config, start_stack
from bo1dash.stack.process import StackError

__all__ = ["MissingBinaryError", "RunningStack", "StackError", "StackOptions", "load_config", "start_stack"]

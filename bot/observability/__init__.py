"""Running several bot processes and watching them: shards, health endpoints, metrics, logs."""

from bot.observability.health import CheckResult, HealthServer, shards_check, store_check
from bot.observability.logs import ShardLogFilter, install_shard_logging
from bot.observability.metrics import (
    BotMetrics,
    TurnMetrics,
    WatchedPolicy,
    instrument_openai_client,
    model_timing_hooks,
)
from bot.observability.shards import (
    ShardPlan,
    ShardTracker,
    process_name,
    shard_label,
    shard_of,
    shard_plan,
)

__all__ = [
    "BotMetrics",
    "CheckResult",
    "HealthServer",
    "ShardLogFilter",
    "ShardPlan",
    "ShardTracker",
    "TurnMetrics",
    "WatchedPolicy",
    "install_shard_logging",
    "instrument_openai_client",
    "model_timing_hooks",
    "process_name",
    "shard_label",
    "shard_of",
    "shard_plan",
    "shards_check",
    "store_check",
]

"""``intraday-rl bench risk``: latency of ``RiskAgentV2.evaluate_and_enforce`` per call.

The shipped policy (every control on) runs a realistic order flow over several symbols: mostly
orders that pass, some that a control cuts or refuses (fat fingers, collar breaches, oversized
orders, unknown symbols), with bars and fills between orders as a live loop would send them.
Every call is timed on its own with ``time.perf_counter_ns`` after a warm-up, with the garbage
collector off; the timer's own overhead (measured the same way) is subtracted. Only
``evaluate_and_enforce`` is timed: bars, fills and request construction are not.
"""

from __future__ import annotations

import gc
import logging
import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from intraday_rl.risk import Bar, Fill, JsonlAuditWriter, RiskAgentV2, RiskPolicy
from intraday_rl.risk.codes import ReasonCode
from intraday_rl.risk.config import load_default_risk_policy
from intraday_rl.shared.constants import NS_PER_SECOND
from intraday_rl.shared.types import RiskAction, TradeRequest

TARGET_P50_US = 2.0
TARGET_P99_US = 5.0
TARGET_P999_US = 25.0

_START_NS = 1_700_000_000 * NS_PER_SECOND
_BAR_NS = 60 * NS_PER_SECOND  # one-minute bars
_IN_BURST_NS = 50_000_000  # 50 ms between the orders a strategy sends at one bar
_SESSION_BARS = 390  # then an overnight gap starts a new session
_OVERNIGHT_NS = 17 * 3_600 * NS_PER_SECOND
_MAX_BENCH_POSITION = 400.0  # the flow trades back towards flat beyond this
_NEW_BAR_PROBABILITY = 0.5  # bursts of 2 orders on average per bar


class _BenchClock:
    __slots__ = ("now_ns",)

    def __init__(self) -> None:
        self.now_ns = _START_NS

    def __call__(self) -> int:
        return self.now_ns


def _bench_policy(n_symbols: int) -> RiskPolicy:
    # The shipped policy with the bench's symbols listed (their limits are the defaults).
    data = load_default_risk_policy().model_dump(mode="json")
    data["symbols"] = {f"S{index:02d}": {} for index in range(n_symbols)}
    return RiskPolicy.model_validate(data)


class _OrderFlow:
    """A multi-symbol strategy's orders: at each bar, a burst of orders for different symbols.

    Intents are pre-drawn; sides are chosen at run time so positions stay inside the limits.
    About 0.6% of requests are errors a pre-trade check must catch.
    """

    def __init__(self, calls: int, n_symbols: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.prefix = f"s{seed}-"  # client_order_ids never repeat across flows
        self.names = [f"S{index:02d}" for index in range(n_symbols)]
        new_bar = rng.random(calls) < _NEW_BAR_PROBABILITY
        new_bar[0] = True
        # Within a burst, each order is for the next symbol: no two alike (no duplicates).
        burst_start = np.maximum.accumulate(np.where(new_bar, np.arange(calls), 0))
        offsets = rng.integers(0, n_symbols, calls)[burst_start]
        self.new_bar = new_bar
        self.symbol_index = (offsets + np.arange(calls) - burst_start) % n_symbols
        self.sizes = rng.choice([10.0, 20.0, 40.0, 60.0], calls)
        self.sides = rng.choice([-1.0, 1.0], calls)
        self.kinds = rng.random(calls)

    def __len__(self) -> int:
        return int(self.new_bar.size)

    def symbol(self, index: int) -> str:
        """The symbol of the ``index``-th order."""
        return self.names[int(self.symbol_index[index])]

    def request(self, index: int, position: float, ts_ns: int) -> TradeRequest:
        """The ``index``-th request given the symbol's current position (mostly allowed)."""
        symbol, price = self.symbol(index), 100.0
        side = float(self.sides[index])
        if abs(position) > _MAX_BENCH_POSITION:
            side = -math.copysign(1.0, position)
        quantity = side * float(self.sizes[index])
        kind = float(self.kinds[index])
        if kind < 0.002:  # fat finger: an order 500x too large
            quantity *= 500.0
        elif kind < 0.004:  # a price far outside the collar
            price = 130.0
        elif kind < 0.005:  # a symbol outside the policy
            symbol = "ZZZ"
        elif kind < 0.006:  # an order the position limit cuts
            quantity = math.copysign(4_950.0, quantity)
        return TradeRequest(ts_ns, symbol, quantity, price, client_order_id=f"{self.prefix}{index}")


def _timer_overhead_ns(samples: int = 200_000) -> int:
    clock = time.perf_counter_ns
    gaps = np.empty(samples, dtype=np.int64)
    for index in range(samples):
        start = clock()
        gaps[index] = clock() - start
    return int(np.median(gaps))


def _send_bars(engine: RiskAgentV2, now_ns: int, bar_index: int, n_symbols: int) -> None:
    for symbol_index in range(n_symbols):
        price = 100.0 + 0.5 * math.sin(bar_index / 7.0 + symbol_index)
        symbol = f"S{symbol_index:02d}"
        engine.update(Bar(now_ns, symbol, price, price + 0.1, price - 0.1, price, 50_000.0))


def _run(
    engine: RiskAgentV2,
    clock: _BenchClock,
    flow: _OrderFlow,
    n_symbols: int,
    latencies: np.ndarray | None,
    not_allowed: np.ndarray | None = None,
) -> None:
    # Each bar: bars for every symbol, the fills of the last burst, then this bar's burst.
    # Only evaluate_and_enforce is timed; ``not_allowed`` marks the calls that were not ALLOW.
    timer = time.perf_counter_ns
    evaluate = engine.evaluate_and_enforce
    pending: list[Fill] = []
    bar_index = 0
    for index in range(len(flow)):
        if flow.new_bar[index]:
            bar_index += 1
            clock.now_ns += _BAR_NS + (_OVERNIGHT_NS if bar_index % _SESSION_BARS == 0 else 0)
            _send_bars(engine, clock.now_ns, bar_index, n_symbols)
            for fill in pending:
                engine.update(fill)
            pending.clear()
        else:
            clock.now_ns += _IN_BURST_NS
        request = flow.request(index, engine.position(flow.symbol(index)), clock.now_ns)
        start = timer()
        decision = evaluate(request)
        elapsed = timer() - start
        if latencies is not None:
            latencies[index] = elapsed
        if not_allowed is not None:
            not_allowed[index] = decision.action != RiskAction.ALLOW
        if decision.allowed_quantity != 0.0:
            quantity, order_id = decision.allowed_quantity, request.client_order_id
            pending.append(Fill(clock.now_ns, request.symbol, quantity, 100.0, 0.0, order_id))


def _engine(n_symbols: int, audit: JsonlAuditWriter | None) -> tuple[RiskAgentV2, _BenchClock]:
    clock = _BenchClock()
    engine = RiskAgentV2(_bench_policy(n_symbols), clock=clock, audit=audit)
    return engine, clock


def run_risk_benchmark(
    calls: int = 1_000_000,
    warmup_calls: int = 50_000,
    n_symbols: int = 8,
    seed: int = 0,
    audit: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time ``calls`` calls of ``evaluate_and_enforce`` one by one; return percentiles in µs.

    Args:
        calls: Timed calls (after ``warmup_calls`` untimed ones).
        n_symbols: Symbols in the book.
        seed: Seed of the request mix.
        audit: Also write non-ALLOW decisions to a JSON-lines file (flushed per line); off by
            default: it measures the file system more than the engine.
        progress: Called with a line of text at each phase (the CLI may print it).

    Returns:
        ``p50_us``, ``p99_us``, ``p999_us``, ``mean_us``, ``max_us``, ``calls``, ``controls``,
        ``timer_overhead_ns``, the share of each action, denied-call percentiles and target flags.
    """
    report = progress or (lambda line: None)
    risk_logger = logging.getLogger("intraday_rl.risk")
    previous_level = risk_logger.level
    risk_logger.setLevel(logging.ERROR)  # denials log at WARNING; keep the terminal quiet
    try:
        with tempfile.TemporaryDirectory() as folder:
            writer = JsonlAuditWriter(Path(folder) / "audit.jsonl") if audit else None
            try:
                return _measure(calls, warmup_calls, n_symbols, seed, writer, report)
            finally:
                if writer is not None:
                    writer.close()
    finally:
        risk_logger.setLevel(previous_level)


def _back_to_back(
    engine: RiskAgentV2, clock: _BenchClock, n_symbols: int, calls: int
) -> np.ndarray:
    # Baskets: at each bar, a buy and a sell of every symbol sent back to back (no updates in
    # between), then their fills. Shows the engine's own cost with warm interpreter caches.
    timer = time.perf_counter_ns
    evaluate = engine.evaluate_and_enforce
    basket = 2 * n_symbols
    latencies = np.empty(calls - calls % basket, dtype=np.int64)
    fills: list[Fill] = []
    for start in range(0, latencies.size, basket):
        bar_index = start // basket + 1
        clock.now_ns += _BAR_NS + (_OVERNIGHT_NS if bar_index % _SESSION_BARS == 0 else 0)
        _send_bars(engine, clock.now_ns, bar_index, n_symbols)
        for index in range(basket):
            clock.now_ns += _IN_BURST_NS
            quantity = 5.0 if index < n_symbols else -5.0  # turnover stays within its limit
            symbol = f"S{index % n_symbols:02d}"
            request = TradeRequest(
                clock.now_ns, symbol, quantity, 100.0, client_order_id=f"b{start + index}"
            )
            begin = timer()
            decision = evaluate(request)
            latencies[start + index] = timer() - begin
            if decision.allowed_quantity:
                fills.append(Fill(clock.now_ns, symbol, quantity, 100.0, 0.0, f"b{start + index}"))
        for fill in fills:
            engine.update(fill)
        fills.clear()
    return latencies


def _timed(run: Callable[[], None]) -> None:
    gc.collect()
    gc.disable()
    try:
        run()
    finally:
        gc.enable()


def _summary(net_us: np.ndarray, not_allowed: np.ndarray) -> dict[str, Any]:
    p50, p99, p999 = np.percentile(net_us, [50.0, 99.0, 99.9])
    # The full path (WARN, REDUCE and denials: every check, evidence, metrics) on its own.
    slow = net_us[not_allowed] if not_allowed.any() else np.zeros(1)
    fast = net_us[~not_allowed] if (~not_allowed).any() else np.zeros(1)
    return {
        "p50_us": round(float(p50), 3),
        "p99_us": round(float(p99), 3),
        "p999_us": round(float(p999), 3),
        "mean_us": round(float(net_us.mean()), 3),
        "max_us": round(float(net_us.max()), 3),
        "allow_path_p50_us": round(float(np.percentile(fast, 50.0)), 3),
        "allow_path_p99_us": round(float(np.percentile(fast, 99.0)), 3),
        "full_path_p50_us": round(float(np.percentile(slow, 50.0)), 3),
        "full_path_p99_us": round(float(np.percentile(slow, 99.0)), 3),
        "not_allow_calls": int(not_allowed.sum()),
        "p50_target_met": bool(p50 <= TARGET_P50_US),
        "p99_target_met": bool(p99 <= TARGET_P99_US),
        "p999_target_met": bool(p999 <= TARGET_P999_US),
        "targets_us": {"p50": TARGET_P50_US, "p99": TARGET_P99_US, "p999": TARGET_P999_US},
    }


def _measure(
    calls: int,
    warmup_calls: int,
    n_symbols: int,
    seed: int,
    writer: JsonlAuditWriter | None,
    report: Callable[[str], None],
) -> dict[str, Any]:
    engine, clock = _engine(n_symbols, writer)
    report("building requests")
    warmup = _OrderFlow(warmup_calls, n_symbols, seed + 1)
    flow = _OrderFlow(calls, n_symbols, seed)
    overhead = _timer_overhead_ns()
    report("warming up")
    _run(engine, clock, warmup, n_symbols, None)
    engine.rearm("bench", "after warm-up")
    latencies = np.empty(calls, dtype=np.int64)
    not_allowed = np.zeros(calls, dtype=bool)
    report("measuring")
    before = (engine.n_approved, engine.n_denied)
    _timed(lambda: _run(engine, clock, flow, n_symbols, latencies, not_allowed))
    approved, denied = engine.n_approved - before[0], engine.n_denied - before[1]
    state = engine.trading_state.value
    report("measuring back-to-back baskets")
    baskets: list[np.ndarray] = []
    _timed(lambda: baskets.append(_back_to_back(engine, clock, n_symbols, min(calls, 200_000))))
    basket_us = np.maximum(baskets[0] - overhead, 0) / 1_000.0
    return {
        **_summary(np.maximum(latencies - overhead, 0) / 1_000.0, not_allowed),
        "calls": calls,
        "warmup_calls": warmup_calls,
        "controls": len(ReasonCode),
        "control_codes": [code.value for code in ReasonCode],
        "approved": approved,
        "denied": denied,
        "n_symbols": n_symbols,
        "trading_state": state,
        "timer_overhead_ns": overhead,
        "audit": writer is not None,
        "back_to_back_p50_us": round(float(np.percentile(basket_us, 50.0)), 3),
        "back_to_back_p99_us": round(float(np.percentile(basket_us, 99.0)), 3),
        "back_to_back_calls": int(basket_us.size),
    }

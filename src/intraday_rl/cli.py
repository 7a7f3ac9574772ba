"""The ``intraday-rl`` command line: parse, call one library function, render the result."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from intraday_rl.evaluation.rollout import PolicySummary
from intraday_rl.shared.errors import IntradayRLError

app = typer.Typer(
    help="Risk-aware reinforcement learning for intraday trading.", no_args_is_help=True
)
data_app = typer.Typer(help="Market data: generate the built-in market, validate files.")
bench_app = typer.Typer(
    help="Benchmarks: JSON plus a human table, each against a same-run reference."
)
app.add_typer(data_app, name="data")
app.add_typer(bench_app, name="bench")


def _console(stderr: bool = False) -> Console:
    # Built per call so the width follows the terminal (and COLUMNS) at run time.
    return Console(stderr=stderr, soft_wrap=stderr)


def _fail(error: IntradayRLError) -> typer.Exit:
    _console(stderr=True).print(f"[bold red]error:[/] {error}", highlight=False)
    return typer.Exit(code=2)


def _summary_table(title: str, summaries: list[PolicySummary]) -> Table:
    table = Table(title=title)
    for column in ("policy", "sessions", "net P&L", "costs", "trades", "Sharpe", "max DD", "hit"):
        table.add_column(column, justify="left" if column == "policy" else "right")
    for summary in summaries:
        table.add_row(
            summary.policy,
            str(summary.n_sessions),
            f"{summary.net_pnl:,.0f}",
            f"{summary.costs:,.0f}",
            f"{summary.n_trades:,}",
            f"{summary.sharpe:.2f}",
            f"{summary.max_drawdown:.1%}",
            f"{summary.hit_rate:.0%}",
        )
    return table


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO.")] = False,
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)


@data_app.command("generate")
def data_generate(
    out: Annotated[Path, typer.Option(help="Output file (.parquet or .csv).")],
    sessions: Annotated[int, typer.Option(min=1, help="Number of trading sessions.")] = 250,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same market.")] = 7,
    symbols: Annotated[str, typer.Option(help="Comma-separated symbols.")] = "SYN",
) -> None:
    """Generate the built-in market's minute bars."""
    from intraday_rl.data.config import SyntheticMarketConfig
    from intraday_rl.data.loading import write_ohlcv
    from intraday_rl.data.synthetic import generate_market

    try:
        names = tuple(name.strip() for name in symbols.split(",") if name.strip())
        market = generate_market(
            SyntheticMarketConfig(n_sessions=sessions, seed=seed, symbols=names)
        )
        write_ohlcv(market.bars, out)
    except IntradayRLError as error:
        raise _fail(error) from None
    _console().print(
        f"wrote {len(market.bars):,} bars ({sessions} sessions × {len(names)} symbols) to {out}"
    )


@data_app.command("validate")
def data_validate(
    path: Annotated[Path, typer.Argument(help="CSV, Parquet file or partitioned Parquet folder.")],
    timezone: Annotated[
        str | None, typer.Option(help="Timezone for naive timestamps, e.g. America/New_York.")
    ] = None,
) -> None:
    """Load and validate an OHLCV file; print its sessions."""
    from intraday_rl.data.config import SessionCalendar
    from intraday_rl.data.loading import load_ohlcv
    from intraday_rl.data.sessions import split_sessions

    try:
        bars = load_ohlcv(path, default_timezone=timezone)
        found = split_sessions(bars, SessionCalendar())
    except IntradayRLError as error:
        raise _fail(error) from None
    symbols = sorted({session.symbol for session in found})
    _console().print(
        f"{path}: {len(bars):,} valid bars, {len(found)} sessions, symbols {', '.join(symbols)}"
    )


@app.command("demo")
def demo(
    sessions: Annotated[int, typer.Option(min=20, help="Sessions in the built-in market.")] = 250,
    seed: Annotated[int, typer.Option(help="Market seed.")] = 7,
    out_dir: Annotated[Path, typer.Option(help="Where the demo writes its files.")] = Path(
        "artifacts"
    ),
) -> None:
    """Run the main job on the built-in market and print each policy's test-set results."""
    from intraday_rl.demo import run_demo

    try:
        result = run_demo(sessions, seed, out_dir)
    except IntradayRLError as error:
        raise _fail(error) from None
    _console().print(
        f"market: {result.market_path} — sessions train {result.n_train}, "
        f"validation {result.n_validation}, test {result.n_test}"
    )
    title = "Baselines on the test sessions (after costs; Sharpe annualized from daily P&L)"
    _console().print(_summary_table(title, result.summaries))


@bench_app.command("env")
def bench_env(
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON object.")] = False,
    steps: Annotated[int, typer.Option(min=1000, help="Single-env steps per repeat.")] = 100_000,
    repeats: Annotated[int, typer.Option(min=1, help="Repeats; the best is kept.")] = 3,
) -> None:
    """Env steps per second: single, vectorized (N=64), and gym-anytrading stocks-v0."""
    from intraday_rl.bench.env_bench import EnvBenchConfig, run_env_benchmark

    try:
        result = run_env_benchmark(EnvBenchConfig(steps=steps, repeats=repeats))
    except IntradayRLError as error:
        raise _fail(error) from None
    _print_bench(result, as_json)


def _print_bench(result: dict[str, Any], as_json: bool) -> None:
    print(json.dumps(result))
    if not as_json:
        table = Table(title="Benchmark")
        table.add_column("key")
        table.add_column("value", justify="right")
        for key, value in result.items():
            shown = (
                str(value)
                if isinstance(value, bool) or not isinstance(value, int | float)
                else f"{value:,}"
            )
            table.add_row(key, shown)
        _console().print(table)

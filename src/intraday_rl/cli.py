"""The ``intraday-rl`` command line: parse, call one library function, render the result."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from intraday_rl.bundle_cli import bundle_app
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
app.add_typer(bundle_app, name="bundle")


def _console(stderr: bool = False) -> Console:
    # Built per call so the width follows the terminal (and COLUMNS) at run time; piped output
    # (make, CI logs) gets room for the result tables instead of rich's 80-column default.
    # markup=False: paths, column names and error messages are user data, never rich markup.
    console = Console(stderr=stderr, soft_wrap=stderr, markup=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 120
    return console


def _fail(error: IntradayRLError) -> typer.Exit:
    _console(stderr=True).print(Text("error: ", style="bold red") + Text(str(error)))
    return typer.Exit(code=2)


def _summary_table(title: str, summaries: list[PolicySummary]) -> Table:
    table = Table(title=title)
    table.add_column("policy", no_wrap=True)
    for column in ("sessions", "net P&L", "costs", "trades", "Sharpe", "max DD", "hit"):
        table.add_column(column, justify="right")
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
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level)
    # Training raises the package logger to INFO for its run log file; the terminal stays quiet.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)


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
    calendar: Annotated[
        str, typer.Option(help="Session calendar: auto, us_equities, fx_24h or cme_globex.")
    ] = "auto",
    timestamp_format: Annotated[
        str | None, typer.Option(help="strftime format of text timestamps, e.g. %d.%m.%Y %H:%M.")
    ] = None,
) -> None:
    """Load and validate an OHLCV file; report what the calendar keeps for training."""
    from intraday_rl.data.config import SessionCalendar
    from intraday_rl.data.diagnostics import detect_calendar, diagnose_sessions
    from intraday_rl.data.loading import load_ohlcv

    try:
        hours = None if calendar == "auto" else SessionCalendar.preset(calendar)
    except ValueError as error:
        raise _fail(IntradayRLError(f"--calendar: {error}")) from None
    try:
        bars = load_ohlcv(path, default_timezone=timezone, timestamp_format=timestamp_format)
        if hours is None:
            calendar, hours = detect_calendar(bars)
            calendar = f"{calendar} (detected)"
        report = diagnose_sessions(bars, hours)
    except IntradayRLError as error:
        raise _fail(error) from None
    console = _console()
    console.print(
        f"{path}: {report.n_bars:,} valid bars; calendar {calendar} keeps {report.n_bars_kept:,} "
        f"in {report.n_sessions:,} sessions ({report.n_bars_outside_calendar:,} outside its "
        f"hours, {report.n_bars_in_short_sessions:,} in sessions of one bar)"
    )
    table = Table(title="Symbols")
    for column in ("symbol", "bars", "first", "last", "close min", "close max", "bar (min)"):
        table.add_column(column, justify="left" if column == "symbol" else "right")
    for item in report.symbols:
        table.add_row(
            item.symbol,
            f"{item.n_bars:,}",
            item.first,
            item.last,
            f"{item.min_close:,.6g}",
            f"{item.max_close:,.6g}",
            f"{item.median_step_minutes:,.1f}",
        )
    console.print(table)
    if report.problem is not None:
        raise _fail(IntradayRLError(f"{path}: {report.problem}"))


@app.command("demo")
def demo(
    config: Annotated[Path, typer.Option(help="Training config of the demo agent.")] = Path(
        "config/dqn_risk_aware.yaml"
    ),
    timesteps: Annotated[
        int | None, typer.Option(min=1000, help="Override total_timesteps (a quicker demo).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train the default risk-aware agent on the built-in market; compare it with baselines."""
    from intraday_rl.demo import run_demo
    from intraday_rl.training.progress import RichProgressCallback

    try:
        total = timesteps or _total_timesteps(config)
        callbacks = [RichProgressCallback(total)] if progress else []
        result = run_demo(config, timesteps, callbacks)
    except IntradayRLError as error:
        raise _fail(error) from None
    console = _console()
    training = result.training
    console.print(f"run directory: {training.run_dir} ({training.num_timesteps:,} timesteps)")
    console.print(_summary_table("Validation sessions (after costs)", result.validation))
    console.print(_summary_table("Test sessions, never seen in training", result.test))
    if result.test_ci is not None and result.test_versus_best_simple is not None:
        ci, paired = result.test_ci, result.test_versus_best_simple
        difference = paired.mean_difference
        console.print(
            f"agent on the test sessions: mean daily net P&L {ci.estimate:,.0f}, "
            f"{ci.level:.0%} CI [{ci.low:,.0f}, {ci.high:,.0f}] (stationary bootstrap, "
            f"{ci.n_resamples:,} resamples); vs {paired.baseline}: {difference.estimate:+,.0f} "
            f"a day, CI [{difference.low:+,.0f}, {difference.high:+,.0f}], "
            f"p = {paired.p_value:.4f}. One seed: `intraday-rl bench quality` has five and "
            "walk-forward."
        )
    console.print(f"bundle: {training.bundle_path or '(not exported)'}")
    for warning in training.warnings:
        console.print(Text("WARNING: ", style="bold yellow") + Text(warning))
    if result.latency is not None:
        stats = result.latency
        console.print(
            f"bundle predict ({stats['runtime']}, one thread, {stats['n_trials']:,} calls): "
            f"p50 {stats['p50_latency_us']:.1f} µs, p99 {stats['p99_latency_us']:.1f} µs, "
            f"p99.9 {stats['p999_latency_us']:.1f} µs — SLO {stats['slo_us']:.0f} µs "
            f"{'met' if stats['slo_pass'] else 'MISSED'}"
        )


def _total_timesteps(config: Path) -> int:
    from intraday_rl.training.config import load_training_config

    return load_training_config(config).training_params.total_timesteps


@app.command("train")
def train(
    config: Annotated[
        Path | None, typer.Option(help="Training YAML (see config/); required unless --resume.")
    ] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Run directory to continue from its last checkpoint.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train an agent from a config (or resume a run); print the run directory and bundle."""
    from intraday_rl.training.progress import RichProgressCallback
    from intraday_rl.training.trainer_agent import TrainerAgent, create_trainer_agent

    try:
        if resume is not None:
            trainer = TrainerAgent.resume(resume)
        elif config is not None:
            trainer = create_trainer_agent(config)
        else:
            raise typer.BadParameter("give --config FILE or --resume RUN_DIR")
        total = trainer.config.training_params.total_timesteps
        shown = progress and not trainer.config.training_params.progress_bar
        callbacks = [RichProgressCallback(total)] if shown else []
        result = trainer.train(callbacks=callbacks)
    except IntradayRLError as error:
        raise _fail(error) from None
    console = _console()
    console.print(f"run directory: {result.run_dir}")
    if result.resumed_from is not None:
        console.print(f"resumed from timestep {result.resumed_from}")
    if result.early_stop_reason:
        console.print(Text("stopped early: ", style="yellow") + Text(result.early_stop_reason))
    console.print(f"timesteps: {result.num_timesteps:,}")
    console.print(_summary_table("Validation sessions (after costs)", [result.validation]))
    console.print(f"bundle: {result.bundle_path or '(not exported)'}")
    for warning in result.warnings:
        console.print(Text("WARNING: ", style="bold yellow") + Text(warning))


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


@bench_app.command("risk")
def bench_risk(
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON object.")] = False,
    calls: Annotated[int, typer.Option(min=10_000, help="Timed calls after warm-up.")] = 1_000_000,
    audit: Annotated[bool, typer.Option(help="Write the JSON-lines audit while timing.")] = False,
) -> None:
    """evaluate_and_enforce latency with the shipped policy, every control on."""
    from intraday_rl.bench.risk_bench import run_risk_benchmark

    try:
        result = run_risk_benchmark(calls=calls, audit=audit)
    except IntradayRLError as error:
        raise _fail(error) from None
    _print_bench(result, as_json)


@bench_app.command("quality")
def bench_quality(
    config: Annotated[Path, typer.Option(help="Training config to compare.")] = Path(
        "config/dqn_risk_aware.yaml"
    ),
    seeds: Annotated[str, typer.Option(help="Comma-separated seeds.")] = "0,1,2,3,4",
    folds: Annotated[int, typer.Option(min=0, help="Walk-forward folds (0: skip).")] = 4,
    walk_forward_seeds: Annotated[str, typer.Option(help="Walk-forward seeds.")] = "0,1,2",
    jobs: Annotated[int, typer.Option(min=1, help="Trainings run in parallel.")] = 1,
    prior_trials: Annotated[
        int, typer.Option(min=0, help="Configurations tried before (for the Deflated Sharpe).")
    ] = 0,
    runs_dir: Annotated[Path, typer.Option(help="Where the runs go.")] = Path("runs/quality"),
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON object.")] = False,
) -> None:
    """The agent vs its baselines on test sessions: seeds, CIs, shaping, walk-forward (slow)."""
    from intraday_rl.bench.quality_bench import run_quality_benchmark

    try:
        result = run_quality_benchmark(
            config,
            _seeds(seeds),
            runs_dir,
            walk_forward_folds=folds,
            walk_forward_seeds=_seeds(walk_forward_seeds),
            jobs=jobs,
            prior_trials=prior_trials,
        )
    except IntradayRLError as error:
        raise _fail(error) from None
    print(json.dumps(result))
    if not as_json:
        table = Table(title=f"Test sessions ({result['n_test_sessions']}), seeds {seeds}")
        for column in ("policy", "seed", "net P&L", "Sharpe", "max DD", "trades"):
            table.add_column(column, justify="left" if column == "policy" else "right")
        rows = [*result["agents"]["shaped"], *result["agents"]["plain"], *result["baselines"]]
        for row in rows:
            table.add_row(
                row["policy"],
                str(row.get("seed", "")),
                f"{row['net_pnl']:,.0f}",
                f"{row['sharpe']:.2f}",
                f"{row['max_drawdown']:.1%}",
                f"{row['n_trades']:,}",
            )
        console = _console()
        console.print(table)
        goals = Table(title="Goals (issue 'Decision quality')")
        goals.add_column("goal")
        goals.add_column("met", justify="right")
        for goal, met in result["goals"].items():
            goals.add_row(goal, "yes" if met else "NO")
        console.print(goals)


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(seed) for seed in text.split(",") if seed.strip())
    except ValueError:
        raise typer.BadParameter(
            f"seeds: expected comma-separated integers, was {text!r}"
        ) from None


@app.command("tune")
def tune(
    config: Annotated[Path, typer.Option(help="Training config with a 'tune' section.")] = Path(
        "config/dqn_risk_aware.yaml"
    ),
    trials: Annotated[int | None, typer.Option(min=1, help="Trials (the section's default).")] = (
        None
    ),
    runs_dir: Annotated[Path | None, typer.Option(help="Parent of the study folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON summary.")] = False,
) -> None:
    """Optuna search of the config's tune.space on validation sessions; writes the best config."""
    from intraday_rl.training.tuning import run_tuning

    console = _console()

    def show(number: int, value: float | None, params: dict[str, Any], state: str) -> None:
        if as_json:
            return
        pruned = value is None or state == "PRUNED"
        score = "stopped early" if pruned else f"validation net P&L {value:,.0f}"
        shown = ", ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
                          for key, value in params.items())  # fmt: skip
        console.print(f"trial {number} {state.lower()}: {score} ({shown})")

    try:
        result = run_tuning(config, n_trials=trials, runs_dir=runs_dir, on_trial=show)
    except IntradayRLError as error:
        raise _fail(error) from None
    summary = {
        "best_value": result.best_value,
        "best_params": result.best_params,
        "n_trials": result.n_trials,
        "n_pruned": result.n_pruned,
        "best_config": str(result.best_config_path),
        "trials": str(result.trials_path),
    }
    print(json.dumps(summary))
    if not as_json:
        console.print(
            f"best: validation net P&L {result.best_value:,.0f} after {result.n_trials} trials "
            f"({result.n_pruned} pruned); config: {result.best_config_path}; "
            f"table: {result.trials_path}. Pass --prior-trials {result.n_trials} to bench quality."
        )


@app.command("walk-forward")
def walk_forward(
    config: Annotated[Path, typer.Option(help="Training config.")] = Path(
        "config/dqn_risk_aware.yaml"
    ),
    data: Annotated[
        Path | None, typer.Option(help="An OHLCV file instead of the config's data source.")
    ] = None,
    folds: Annotated[int, typer.Option(min=1, help="Number of folds.")] = 4,
    seeds: Annotated[str, typer.Option(help="Comma-separated training seeds.")] = "0,1,2",
    test_sessions: Annotated[int, typer.Option(min=1, help="Test dates per fold.")] = 50,
    train_sessions: Annotated[
        int, typer.Option(min=2, help="Train dates (sliding) or the first fold's minimum.")
    ] = 200,
    embargo: Annotated[int, typer.Option(min=0, help="Dates skipped before each test.")] = 1,
    mode: Annotated[str, typer.Option(help="anchored or sliding.")] = "anchored",
    timesteps: Annotated[int | None, typer.Option(min=1000, help="Override steps.")] = None,
    jobs: Annotated[int, typer.Option(min=1, help="Trainings run in parallel.")] = 1,
    out: Annotated[Path, typer.Option(help="Folder for JSON, Parquet and runs.")] = Path(
        "runs/walk-forward"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON summary.")] = False,
) -> None:
    """Retrain per fold x seed, select on each fold's validation, test on its unseen sessions."""
    from intraday_rl.data.config import WalkForwardConfig
    from intraday_rl.training.config import load_training_config
    from intraday_rl.walk_forward import run_walk_forward, write_walk_forward

    console = _console()
    try:
        training = load_training_config(config)
        if data is not None:
            raw = training.model_dump(mode="json")
            raw["env"]["data"].update(source="file", path=str(data))
            training = load_training_config(raw)
        layout = WalkForwardConfig.model_validate(
            {
                "n_folds": folds,
                "test_sessions": test_sessions,
                "train_sessions": train_sessions,
                "embargo_sessions": embargo,
                "mode": mode,
            }
        )
        result = run_walk_forward(
            training,
            layout,
            _seeds(seeds),
            runs_dir=out,
            total_timesteps=timesteps,
            jobs=jobs,
            on_result=None
            if as_json
            else lambda row: console.print(
                f"fold {row.fold} seed {row.seed}: test net P&L {row.net_pnl:,.0f} "
                f"({row.test_start} .. {row.test_end})"
            ),
        )
        json_path, parquet_path = write_walk_forward(result, out)
    except IntradayRLError as error:
        raise _fail(error) from None
    except ValueError as error:  # pydantic validation of the fold layout
        raise _fail(IntradayRLError(str(error))) from None
    summary = result.summary()
    print(json.dumps(summary))
    if as_json:
        return
    table = Table(title="Walk-forward: out-of-sample test sessions")
    for column in ("fold", "seed", "train", "test", "net P&L", "Sharpe", "max DD", "buy&hold"):
        table.add_column(column, justify="right")
    for row in result.folds:
        table.add_row(
            str(row.fold),
            str(row.seed),
            f"{row.train_start}..{row.train_end}",
            f"{row.test_start}..{row.test_end}",
            f"{row.net_pnl:,.0f}",
            f"{row.sharpe:.2f}",
            f"{row.max_drawdown:.1%}",
            f"{row.buy_and_hold_pnl:,.0f}",
        )
    console.print(table)
    low, mean, high = summary["daily_pnl_ci"]
    console.print(
        f"stitched: mean net P&L over seeds {result.pnl_mean:,.0f} on "
        f"{summary['n_test_sessions']} sessions (buy-and-hold {summary['buy_and_hold_pnl']:,.0f}); "
        f"mean daily net P&L {mean:,.1f}, 95% CI [{low:,.1f}, {high:,.1f}]"
    )
    console.print(f"written: {json_path}, {parquet_path}")


@bench_app.command("train")
def bench_train(
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON object.")] = False,
    steps: Annotated[int, typer.Option(min=2000, help="DQN steps per measurement.")] = 20_000,
    repeats: Annotated[int, typer.Option(min=1, help="Repeats; the best is kept.")] = 2,
) -> None:
    """DQN training fps on our env and on gym-anytrading stocks-v0 (same hyperparameters)."""
    from intraday_rl.bench.train_bench import TrainBenchConfig, run_train_benchmark

    try:
        result = run_train_benchmark(TrainBenchConfig(steps=steps, repeats=repeats))
    except IntradayRLError as error:
        raise _fail(error) from None
    _print_bench(result, as_json)


@bench_app.command("predict")
def bench_predict(
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON object.")] = False,
) -> None:
    """Single-observation predict latency: SB3 vs TorchScript vs ONNX Runtime vs the default."""
    from intraday_rl.bench.predict_bench import run_predict_benchmark

    try:
        result = run_predict_benchmark()
    except IntradayRLError as error:
        raise _fail(error) from None
    _print_bench(result, as_json)


@app.command("validate-latency")
def validate_latency(
    bundle: Annotated[Path, typer.Argument(help="Policy bundle folder.")],
    runtime: Annotated[
        str | None, typer.Option(help="onnxruntime, numpy or torchscript (default: fastest).")
    ] = None,
    trials: Annotated[int, typer.Option(min=100, help="Timed predict calls.")] = 10_000,
    slo_us: Annotated[float, typer.Option(help="p99 latency objective, microseconds.")] = 100.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON object.")] = False,
) -> None:
    """Verify a bundle, then time its predict on one thread; exit 1 when p99 misses the SLO."""
    from intraday_rl.bundle import validate_bundle_latency

    try:
        stats = validate_bundle_latency(bundle, runtime=runtime, num_trials=trials, slo_us=slo_us)
    except IntradayRLError as error:
        raise _fail(error) from None
    _print_bench(dict(stats), as_json)
    if not stats["slo_pass"]:
        raise typer.Exit(code=1)


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


if __name__ == "__main__":
    app()

"""The engine's mutable state: one :class:`SymbolBook` per symbol and one :class:`AccountBook`.

Each symbol contributes to account-wide sums (gross and net exposure, worst cases counting working
orders, VaR exposure); :meth:`AccountBook.restate` adds the change of one symbol's contribution,
so an update costs O(1) however many symbols are held.

Worst-case exposure of a symbol with position ``p``, working buys ``B`` and working sells ``S``
(both >= 0) is ``W = max(p + B, S - p)`` shares: the largest |position| if any subset of the working
orders fills.
"""

from __future__ import annotations

import math

from intraday_rl.risk.calculators import (
    EwmaVariance,
    PeakTracker,
    RollingMean,
    RunningSum,
    WindowCounter,
)
from intraday_rl.risk.limits import (
    INF,
    MAX_SANE_NOTIONAL,
    MAX_SANE_QUANTITY,
    CompiledLimits,
    SymbolLimits,
)

# Exact re-summation of the account-wide sums after this many incremental changes.
RESUM_EVERY = 4096


class SymbolBook:
    """Position, working orders, market data and calculators of one symbol."""

    __slots__ = (
        "adv",
        "adv_cap_quantity",
        "bar_volume",
        "buys",
        "c_gross",
        "c_gross_worst",
        "c_net",
        "c_net_long",
        "c_net_short",
        "c_var_positions",
        "c_var_worst",
        "c_working",
        "data_fault",
        "fresh_until_ns",
        "last_data_ns",
        "last_order_ns",
        "last_order_price",
        "last_order_quantity",
        "limits",
        "listed",
        "max_bar_quantity",
        "max_order_notional",
        "max_order_quantity",
        "max_position",
        "position",
        "price",
        "restricted",
        "sells",
        "session_volume",
        "sigma",
        "symbol",
        "tradable",
        "traded_quantity",
        "volatility",
        "volatility_ok",
        "working_buy",
        "working_sell",
    )

    def __init__(self, symbol: str, limits: CompiledLimits) -> None:
        self.symbol = symbol
        self.limits: SymbolLimits = limits.symbol_limits(symbol)
        self.restricted = symbol in limits.restricted_symbols
        # Unlisted symbols get a book too (fills must be tracked) but never trade.
        self.listed = limits.is_tradable_universe(symbol)
        self.tradable = self.listed and not self.restricted
        self.volatility_ok = True
        self.position = 0.0
        self.working_buy = 0.0
        self.working_sell = 0.0
        self.price = math.nan
        self.last_data_ns = -1
        self.fresh_until_ns = -1
        self.data_fault = False
        self.bar_volume = math.nan
        self.session_volume = 0.0
        self.traded_quantity = 0.0
        self.volatility = EwmaVariance(limits.ewma_lambda, limits.bar_return_prior_variance)
        self.sigma = self.volatility.volatility  # bar sigma as of the last refresh
        self.adv = RollingMean(limits.adv_window_sessions)
        self.last_order_quantity = math.nan
        self.last_order_price = math.nan
        self.last_order_ns = -(2**62)
        self.buys = WindowCounter(limits.repeat_window_ns)
        self.sells = WindowCounter(limits.repeat_window_ns)
        self.c_gross = self.c_net = self.c_gross_worst = self.c_working = 0.0
        self.c_net_long = self.c_net_short = self.c_var_worst = self.c_var_positions = 0.0
        self.max_bar_quantity = INF
        self.max_order_quantity = min(self.limits.max_order_quantity, MAX_SANE_QUANTITY)
        self.max_order_notional = min(self.limits.max_order_notional, MAX_SANE_NOTIONAL)
        self.max_position = self.limits.max_position
        self.adv_cap_quantity = INF

    @property
    def worst_position(self) -> float:
        """``W = max(p + B, S - p)``: the largest |position| if working orders fill."""
        return max(self.position + self.working_buy, self.working_sell - self.position)

    @property
    def adv_shares(self) -> float:
        """Average daily volume: mean of completed sessions, else the policy's seed, else NaN."""
        if self.adv.n_values:
            return self.adv.mean
        return self.limits.adv_shares

    def check_calculators(self) -> None:
        """Raise when a calculator misbehaves (raises, or returns None or a wrong type).

        Called on every update, so a broken calculator fails the engine closed even for orders
        that would not read it.
        """
        now = max(self.last_data_ns, 0)
        for counter in (self.buys, self.sells):
            counter.evict(now)
            if type(counter.count(now)) is not int:
                raise TypeError(f"{self.symbol}: window counter returned a non-int")
        if type(self.adv.n_values) is not int or not isinstance(self.volatility.variance, float):
            raise TypeError(f"{self.symbol}: ADV or volatility calculator returned a wrong type")

    def refresh(self, limits: CompiledLimits) -> None:
        """Check the calculators, then recompute what the hot path reads and ``limits`` imply.

        The hot path reads these copies on the book itself (fewer objects touched per order):
        ``fresh_until_ns`` (-1 when the symbol cannot trade: no usable data, not tradable, or
        too volatile), ``max_order_quantity``, ``max_order_notional`` and ``max_position`` of the
        symbol's limits.
        """
        self.check_calculators()
        symbol_limits = self.limits
        # The screen's caps: the limit, or the request sanity bound when it is off or above it.
        self.max_order_quantity = min(symbol_limits.max_order_quantity, MAX_SANE_QUANTITY)
        self.max_order_notional = min(symbol_limits.max_order_notional, MAX_SANE_NOTIONAL)
        self.max_position = symbol_limits.max_position
        self.sigma = self.volatility.volatility
        self.volatility_ok = self.sigma * math.sqrt(limits.bars_per_year) <= limits.max_volatility
        price = self.price
        usable = price > 0.0 and math.isfinite(price) and not self.data_fault
        if usable and self.last_data_ns >= 0 and self.tradable and self.volatility_ok:
            self.fresh_until_ns = self.last_data_ns + limits.max_data_age_ns
        else:
            self.fresh_until_ns = -1
        volume, participation = self.bar_volume, limits.max_bar_participation
        # No volume data (NaN) or the control off: no participation cap.
        self.max_bar_quantity = (
            participation * volume if volume >= 0.0 and participation < INF else INF
        )
        adv = self.adv_shares
        self.adv_cap_quantity = limits.max_adv_participation * adv if adv > 0.0 else INF

    def annualized_volatility(self, bars_per_year: float) -> float:
        """EWMA volatility of bar returns, annualized."""
        return self.volatility.volatility * math.sqrt(bars_per_year)


class AccountBook:
    """Cash, equity, peaks, session totals and the account-wide exposure sums."""

    __slots__ = (
        "capital",
        "cash",
        "day_start_equity",
        "gross",
        "gross_worst",
        "intraday",
        "last_data_ns",
        "n_restated",
        "net",
        "net_long",
        "net_short",
        "orders",
        "peak",
        "turnover",
        "var_positions",
        "var_worst",
        "working",
    )

    def __init__(self, capital: float, limits: CompiledLimits) -> None:
        self.capital = capital
        self.cash = capital
        self.day_start_equity = capital
        self.peak = PeakTracker()
        self.peak.update(capital)
        self.intraday = PeakTracker()
        self.intraday.update(capital)
        self.turnover = RunningSum()
        self.orders = WindowCounter(limits.order_rate_window_ns)
        self.last_data_ns = -1
        self.n_restated = 0
        self.gross = self.net = self.gross_worst = self.working = 0.0
        self.net_long = self.net_short = self.var_worst = self.var_positions = 0.0

    @property
    def equity(self) -> float:
        """Cash plus every position marked at its reference price."""
        return self.cash + self.net

    def restate(self, book: SymbolBook) -> None:
        """Recompute ``book``'s contributions and add their change to the account sums."""
        price = book.price if book.price > 0.0 else 0.0  # no price yet: nothing to value
        position = book.position
        worst = max(position + book.working_buy, book.working_sell - position)
        sigma = book.sigma
        gross, net = abs(position) * price, position * price
        gross_worst = worst * price
        working = (book.working_buy + book.working_sell) * price
        net_long = (position + book.working_buy) * price
        net_short = (position - book.working_sell) * price
        self.gross += gross - book.c_gross
        self.net += net - book.c_net
        self.gross_worst += gross_worst - book.c_gross_worst
        self.working += working - book.c_working
        self.net_long += net_long - book.c_net_long
        self.net_short += net_short - book.c_net_short
        self.var_worst += gross_worst * sigma - book.c_var_worst
        self.var_positions += gross * sigma - book.c_var_positions
        book.c_gross, book.c_net, book.c_gross_worst, book.c_working = (
            gross,
            net,
            gross_worst,
            working,
        )
        book.c_net_long, book.c_net_short = net_long, net_short
        book.c_var_worst, book.c_var_positions = gross_worst * sigma, gross * sigma
        self.n_restated += 1

    def resum(self, books: list[SymbolBook]) -> None:
        """Recompute every account-wide sum exactly from the symbols' contributions.

        Run after every portfolio snapshot (the advisor's every step), so one symbol, the
        training case, takes a shortcut: its contributions are the sums.
        """
        self.n_restated = 0
        if len(books) == 1:
            (book,) = books
            self.gross, self.net, self.gross_worst = book.c_gross, book.c_net, book.c_gross_worst
            self.working, self.net_long, self.net_short = (
                book.c_working,
                book.c_net_long,
                book.c_net_short,
            )
            self.var_worst, self.var_positions = book.c_var_worst, book.c_var_positions
            return
        self.gross = math.fsum(book.c_gross for book in books)
        self.net = math.fsum(book.c_net for book in books)
        self.gross_worst = math.fsum(book.c_gross_worst for book in books)
        self.working = math.fsum(book.c_working for book in books)
        self.net_long = math.fsum(book.c_net_long for book in books)
        self.net_short = math.fsum(book.c_net_short for book in books)
        self.var_worst = math.fsum(book.c_var_worst for book in books)
        self.var_positions = math.fsum(book.c_var_positions for book in books)

    def mark(self) -> None:
        """Update the peaks with the current equity."""
        equity = self.equity
        self.peak.update(equity)
        self.intraday.update(equity)

    def start_session(self, books: list[SymbolBook]) -> None:
        """Close the session: feed the ADVs, reset session totals and the intraday peak."""
        for book in books:
            if book.session_volume > 0.0:
                book.adv.push(book.session_volume)
            book.session_volume = 0.0
            book.traded_quantity = 0.0
        equity = self.equity
        self.day_start_equity = equity
        self.intraday.reset(equity)
        self.turnover.reset()

    @property
    def daily_loss(self) -> float:
        """Loss since the session start as a fraction of capital (negative when in profit)."""
        return (self.day_start_equity - self.equity) / self.capital

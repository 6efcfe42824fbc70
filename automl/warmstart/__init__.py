"""Warm start: configs a search tries first (a shipped portfolio, or an earlier run's best). No TensorFlow."""

from automl.warmstart._portfolio import (
    PORTFOLIO_FORMAT,
    Portfolio,
    PortfolioDataset,
    load_portfolio,
    portfolios_dir,
    shipped_portfolios,
)
from automl.warmstart._warm_start import (
    MAX_CONFIGS,
    WARM_START_ATTR,
    WarmStart,
    check_warm_start,
    plan_warm_start,
    resumed_warm_start,
    warm_start_size,
    warm_start_study,
)

__all__ = [
    "MAX_CONFIGS",
    "PORTFOLIO_FORMAT",
    "WARM_START_ATTR",
    "Portfolio",
    "PortfolioDataset",
    "WarmStart",
    "check_warm_start",
    "load_portfolio",
    "plan_warm_start",
    "portfolios_dir",
    "resumed_warm_start",
    "shipped_portfolios",
    "warm_start_size",
    "warm_start_study",
]

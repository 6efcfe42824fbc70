"""A small synthetic daily weather table for one city, with the structure that makes "tomorrow = today" hard.

The workshop's data (daily observations of 18 European cities, 2000-2010) has to be downloaded; this
generator makes an offline stand-in with the same kind of columns for a single city. It is a toy model,
documented here so that its numbers can be read:

* **Season.** Day length follows the calendar: ``12 + 4 sin(2π (day - 80) / 365.25)`` hours (8 h in
  December, 16 h in June). Winters are cloudier and colder.
* **Persistence.** The weather is a cloudiness state ``z`` that carries over from day to day:
  ``z[t+1] = 0.6 z[t] + 0.4 season[t+1] + e[t+1]``. So today's sunshine is a good guess for tomorrow's,
  but not the best one: the state drifts back towards the season's normal.
* **Warning signs.** Part of tomorrow's change ``e[t+1]`` is visible today: a front on its way lowers the
  pressure and raises the humidity before the clouds arrive (``e[t+1] = 0.7 front[t] + 0.7 noise``, and
  ``front[t]`` moves today's pressure tendency and humidity). A model that reads them can beat persistence.
* **Observations.** ``sunshine`` = day length × the clear-sky share ``sigmoid(-1.5 z)``, with a little
  measurement noise, in hours; temperature, humidity, pressure, its change since yesterday, cloud
  cover (eighths) and precipitation follow ``z``, the season and the front.

The target column is ``sunshine_tomorrow``, the next day's sunshine; ``sunshine`` (today's) is the
persistence baseline's forecast. The last day has no tomorrow and is dropped. Rows are in date order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["generate_weather"]


def generate_weather(days: int = 3 * 365, *, seed: int = 0) -> pd.DataFrame:
    """``days`` consecutive days of synthetic weather (see the module doc), one row a day, in date order."""
    rng = np.random.default_rng(seed)
    n = days + 1  # one more day, for the last row's tomorrow
    day = np.arange(n)
    angle = 2 * np.pi * (day - 80) / 365.25  # 0 at the spring equinox
    day_length = 12 + 4 * np.sin(angle)
    season = -0.8 * np.sin(angle)  # cloudier in winter (z > 0 means clouds)
    front = rng.normal(size=n)  # a weather front on its way: tomorrow's change, visible today
    z = np.empty(n)
    z[0] = season[0]
    for t in range(1, n):
        change = 0.7 * front[t - 1] + 0.7 * rng.normal()
        z[t] = 0.6 * z[t - 1] + 0.4 * season[t] + change
    clear = 1 / (1 + np.exp(1.5 * z))
    sunshine = np.clip(day_length * clear + rng.normal(0, 0.3, n), 0, day_length)
    pressure = 1016 - 6 * z - 5 * front + rng.normal(0, 2, n)
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2001-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "month": (pd.date_range("2001-01-01", periods=n, freq="D").month).astype(int),
            "day_length": day_length.round(2),
            "temp_mean": (
                10 - 9 * np.cos(2 * np.pi * (day - 15) / 365.25) - 1.5 * z + rng.normal(0, 1.5, n)
            ).round(1),
            "humidity": np.clip(0.75 + 0.06 * z + 0.05 * front + rng.normal(0, 0.04, n), 0.2, 1.0).round(2),
            "pressure": pressure.round(1),
            "pressure_change": np.diff(pressure, prepend=pressure[0]).round(1),
            "cloud_cover": np.clip(np.round(8 * (1 - clear) + rng.normal(0, 0.7, n)), 0, 8).astype(int),
            "precipitation": np.clip(2.5 * (z - 0.8) + rng.normal(0, 0.5, n), 0, None).round(1),
            "sunshine": sunshine.round(1),
        }
    )
    frame["sunshine_tomorrow"] = frame["sunshine"].shift(-1)
    return frame.iloc[:-1].reset_index(drop=True)

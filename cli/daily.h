/*
 * daily.h - xqctl commands of the dunning area: `xqctl daily` (late fees,
 * reminders, alert detectors for one day) and `xqctl forecast --backtest`.
 */
#ifndef XQ_CLI_DAILY_H
#define XQ_CLI_DAILY_H

struct config;

/* Both take the loaded configuration and argv from the command name on. */
int cmd_daily_run(const struct config *cfg, int argc, char **argv);
int cmd_forecast_run(const struct config *cfg, int argc, char **argv);

#endif

"""Reports a shop manager reads: 询单转化率, response times of the bot and of agents,
satisfaction, complaint and handoff rates and draft acceptance, per day and per agent, as
typed objects (:mod:`figures`), HTML with charts (:mod:`html`) and CSV (:mod:`csvfile`).
Definitions of every figure: ``docs/reports.md``."""

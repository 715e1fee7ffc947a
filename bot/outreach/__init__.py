"""Messages the shop sends unprompted: 催付, notices, 回访 and care, through an outbox.

Sources are scheduled jobs (:mod:`bot.scheduling`) that store what is due in the outbox
(:mod:`bot.outreach.outbox`); the delivery job sends each stored message once, into the
buyer's conversation, outside quiet hours and within the per-buyer daily cap. All of it
follows the shop's ``outreach`` settings and the injected clock.
"""

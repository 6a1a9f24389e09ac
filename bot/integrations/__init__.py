"""The clients of the outside services Firebreak calls from its outbox: PagerDuty and
Statuspage. Each implements :class:`bot.usecases.ports.CallTransport`."""

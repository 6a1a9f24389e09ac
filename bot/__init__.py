"""Firebreak: a self-hosted Slack chatops bot for critical incidents and emergency hotfixes."""

__version__ = "0.1.0"

"""The Slack edge: Bolt listeners by Slack kind, Block Kit cards, and the adapters behind the
use cases' Slack ports — every Web API call goes through :class:`bot.slack.web_api.WebApi`."""

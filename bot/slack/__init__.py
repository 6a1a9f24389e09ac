"""The Slack edge: Bolt listeners, Block Kit cards and the notifier that makes every Web API call."""

"""The pure core: models, rules and text helpers. Knows neither Slack nor the wall clock."""
